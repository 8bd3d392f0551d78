import { readFileSync } from 'node:fs';
import { type IngestOptions, IngestWorker } from '../../fleet/ingest/worker.ts';

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

/** A started ingest worker of provider coolco on `broker` (password `password`), in group `coolco-ingest`. */
export async function coolcoWorker(
  broker: { readonly passwordUrl: string; readonly certs: { readonly ca: string } },
  password: string,
  options: Pick<IngestOptions, 'db' | 'clientId'> & Partial<IngestOptions>,
): Promise<IngestWorker> {
  const worker = new IngestWorker({
    url: broker.passwordUrl,
    provider: 'coolco',
    group: 'coolco-ingest',
    mqtt: { username: 'coolco', password, ca: readFileSync(broker.certs.ca) },
    ...options,
  });
  await worker.start();
  return worker;
}
