import { readFileSync } from 'node:fs';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetDb, postgresDb } from '../../fleet/db/fleetDb.ts';
import { fleetConfig } from '../../fleet/config.ts';
import { FleetProcess } from '../../fleet/fleetProcess.ts';
import { IngestWorker } from '../../fleet/ingest/worker.ts';
import type { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { coolcoIngest, GATEWAY_PASSWORD, providerBroker } from './records.ts';

/**
 * Two fleet processes on one PostgreSQL: a gateway whose connection drops (the broker publishes its
 * last will) gets one `gateway.offline` alarm, raised by whichever process ran the check, and the
 * alarm clears when the gateway is back.
 */
const dirs = new TempDirs();
let broker: CloudBroker;
let pg: TempPostgres;
let db: FleetDb;
const processes: FleetProcess[] = [];

beforeAll(async () => {
  broker = await providerBroker(dirs);
  pg = await startPostgres();
  db = await postgresDb(pg.url);
  for (const n of [1, 2]) {
    const p = new FleetProcess({
      db,
      ingest: new IngestWorker({ ...coolcoIngest(broker, `coolco-${n}`), db }),
      config: fleetConfig({ provider: 'coolco', checks: { everySeconds: 0.1, gatewayOfflineMinutes: 10 } }),
    });
    await p.start();
    processes.push(p);
  }
}, 60_000);

afterAll(async () => {
  for (const p of processes) await p.stop();
  await db?.close();
  pg?.stop();
  await broker?.stop();
  dirs.cleanup();
});

function gatewayConnection(): Promise<MqttClient> {
  const offline = JSON.stringify({ v: 1, gatewayId: 'gw-1', state: 'offline' });
  const client = connect(broker.passwordUrl, {
    protocolVersion: 5,
    clientId: 'gw-1',
    username: 'gw-1',
    password: GATEWAY_PASSWORD,
    ca: readFileSync(broker.certs.ca),
    reconnectPeriod: 0,
    will: { topic: 'trellis/v1/gw-1/status', payload: Buffer.from(offline), qos: 1, retain: true },
  });
  return new Promise((resolve, reject) => {
    client.once('connect', async () => {
      await client.publishAsync('trellis/v1/gw-1/status', JSON.stringify({ v: 1, gatewayId: 'gw-1', state: 'online', at: Date.now(), version: '0.1.0' }), {
        qos: 1,
        retain: true,
      });
      resolve(client);
    });
    client.once('error', reject);
  });
}

const alarms = () =>
  db.query<{ state: string; count: number }>("SELECT state, count FROM alarms WHERE gateway_id = 'gw-1' AND code = 'gateway.offline' ORDER BY id");

describe('fleet processes', () => {
  it('a dropped gateway (its last will) gets one offline alarm, cleared when it is back', async () => {
    const gw = await gatewayConnection();
    await waitFor(
      async () => (await db.query<{ state: string }>("SELECT state FROM gateways WHERE gateway_id = 'gw-1'"))[0]?.state === 'online',
      10_000,
      'online',
    );
    gw.stream.destroy(); // no DISCONNECT: the broker publishes the will
    await waitFor(async () => (await alarms()).length === 1, 10_000, 'the offline alarm');
    await new Promise((r) => setTimeout(r, 500)); // several more check rounds by both processes
    expect(await alarms()).toEqual([{ state: 'active', count: 1 }]);
    const back = await gatewayConnection();
    try {
      await waitFor(async () => (await alarms())[0]?.state === 'cleared', 10_000, 'cleared');
    } finally {
      await back.endAsync();
    }
  }, 40_000);
});
