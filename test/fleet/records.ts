import { readFileSync } from 'node:fs';
import { type IngestOptions, IngestWorker } from '../../fleet/ingest/worker.ts';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import type { TempDirs } from '../helpers/tempDir.ts';

/** Records as a gateway publishes them, written from protocol v1 (docs/schemas), for the fleet's tests. */
export const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 11, 1);

const envelope = (gatewayId: string, seq: number, type: string, data: unknown) =>
  JSON.stringify({ v: 1, key: `${gatewayId}:${seq}`, seq, gatewayId, type, at: T0 + seq, data });

export function usage(gatewayId: string, seq: number, bucketSeq: number, deviceRef = 'dev-a') {
  const start = T0 + bucketSeq * HOUR;
  return {
    topic: `trellis/v1/${gatewayId}/p/coolco/usage/${deviceRef}`,
    payload: envelope(gatewayId, seq, 'usage', {
      deviceId: deviceRef,
      start,
      end: start + HOUR,
      localStart: `${new Date(start).toISOString().slice(0, 16)}+00:00`,
      metrics: { energy: { role: 'energy', unit: 'Wh', delta: 120, resets: 0, rollovers: 0, samples: 360 } },
      gaps: [],
      offlineSeconds: 0,
      bucketSeq,
    }),
  };
}

export function alert(gatewayId: string, seq: number, message = 'door open') {
  return {
    topic: `trellis/v1/${gatewayId}/p/coolco/alert`,
    payload: envelope(gatewayId, seq, 'alert', { severity: 'warning', message, source: 'rule', ruleId: 'door-alarm', deviceId: 'dev-a', at: T0 + seq }),
  };
}

export function status(gatewayId: string, state: 'online' | 'offline') {
  return {
    topic: `trellis/v1/${gatewayId}/status`,
    payload: JSON.stringify({ v: 1, gatewayId, state, ...(state === 'online' ? { at: T0, version: '0.1.0' } : {}) }),
  };
}

/** The provider's broker for the fleet tests: Debian mosquitto with TLS; gateway gw-1 writes its own topics, each provider reads its own stream. */
export async function providerBroker(dirs: TempDirs): Promise<CloudBroker> {
  const broker = new CloudBroker({
    dir: dirs.make('trellis-fleet-broker-'),
    users: { 'gw-1': GATEWAY_PASSWORD, coolco: COOLCO_PASSWORD },
    certificateClients: [],
    acl: 'user gw-1\ntopic readwrite trellis/v1/gw-1/#\npattern read trellis/v1/+/status\npattern read trellis/v1/+/p/%u/#\npattern write trellis/v1/+/p/%u/resend/+\n',
    passwordPort: await freePort(),
    certificatePort: await freePort(),
  });
  await broker.start();
  return broker;
}

export const GATEWAY_PASSWORD = 'gw-secret';
const COOLCO_PASSWORD = 'cool-secret';

/** How provider coolco's ingest reaches `broker`, in the group `coolco-ingest`. */
export function coolcoIngest(broker: CloudBroker, clientId: string): Omit<IngestOptions, 'db'> {
  return {
    url: broker.passwordUrl,
    provider: 'coolco',
    group: 'coolco-ingest',
    clientId,
    mqtt: { username: 'coolco', password: COOLCO_PASSWORD, ca: readFileSync(broker.certs.ca) },
  };
}

/** A started ingest worker of provider coolco on `broker`. */
export async function coolcoWorker(broker: CloudBroker, options: Pick<IngestOptions, 'db' | 'clientId'> & Partial<IngestOptions>): Promise<IngestWorker> {
  const worker = new IngestWorker({ ...coolcoIngest(broker, options.clientId), ...options });
  await worker.start();
  return worker;
}
