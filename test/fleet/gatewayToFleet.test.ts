import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetDb, pgliteDb } from '../../fleet/db/fleetDb.ts';
import { migrate } from '../../fleet/db/migrations.ts';
import type { IngestWorker } from '../../fleet/ingest/worker.ts';
import type { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';
import { coolcoWorker, GATEWAY_PASSWORD, providerBroker } from './records.ts';

/**
 * A real gateway's cloud sync into the fleet's ingest (PGlite, the embedded default): what the gateway
 * actually publishes passes the fleet's validation and lands once, under the provider's pseudonyms.
 * This is the test that catches the two ends drifting apart on the wire format.
 */
const dirs = new TempDirs();
let broker: CloudBroker;
let gw: TestGateway;
let db: FleetDb;
let worker: IngestWorker;
const HOUR = 3_600_000;

beforeAll(async () => {
  const dir = dirs.make('trellis-gw-fleet-');
  broker = await providerBroker(dirs);
  db = await pgliteDb(dirs.make('trellis-fleet-db-'));
  await migrate(db);
  worker = await coolcoWorker(broker, { db, clientId: 'coolco-ingest' });
  writeFileSync(join(dir, 'pw'), GATEWAY_PASSWORD);
  gw = await startTestGateway(
    {
      gatewayId: 'gw-1',
      cloud: { url: broker.passwordUrl, username: 'gw-1', passwordFile: join(dir, 'pw'), ca: broker.certs.ca, backoffMinMs: 100, backoffMaxMs: 1000 },
    },
    dirs,
  );
  gw.running.hub.describe({
    id: 'fridge-1',
    name: 'Fridge',
    protocol: 'mqtt',
    owner: 'fridge-1',
    attributes: { temperature: { type: 'number', deviceClass: 'temperature', writable: false } },
  });
  gw.running.grants.add({ providerId: 'coolco', devices: ['fridge-1'], classes: ['usage', 'alerts', 'maintenance', 'health'] });
  await waitFor(() => gw.running.cloud?.link.status().connected, 10_000, 'link up');
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await worker?.stop();
  await db?.close();
  await broker?.stop();
  dirs.cleanup();
});

describe('gateway -> provider broker -> fleet ingest', () => {
  it("stores the gateway's alerts, usage, maintenance signals and health, each once, and none as invalid", async () => {
    const cloud = gw.running.cloud;
    if (!cloud) throw new Error('no cloud sync');
    const start = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const bucket = {
      seq: 1,
      deviceId: 'fridge-1',
      start,
      end: start + HOUR,
      localStart: '2026-12-01T10:00+00:00',
      metrics: { temperature: { role: 'temperature' as const, min: 3, max: 5, mean: 4, samples: 60 } },
      gaps: [],
      offlineSeconds: 0,
    };
    gw.running.db.transaction(() => cloud.queueUsage([bucket]))();
    gw.running.alerts.raise({ source: 'maintenance', deviceId: 'fridge-1', severity: 'warning', message: 'fridge-1 door held open', at: Date.now() });
    cloud.maintenance({
      deviceId: 'fridge-1',
      signal: 'drift',
      attribute: 'temperature',
      value: 0.4,
      unit: '°C',
      threshold: 2,
      exceeded: false,
      at: Date.now(),
    });
    cloud.queueHealth();
    const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n ?? 0;
    await waitFor(
      async () =>
        (await count('usage_buckets')) === 1 && (await count('alerts')) === 1 && (await count('maintenance_signals')) === 1 && (await count('health')) === 1,
      15_000,
      'every record in the fleet',
    );
    expect(await count('invalid_messages')).toBe(0);
    const [usage] = await db.query<{ device_ref: string; bucket_seq: number }>('SELECT device_ref, bucket_seq FROM usage_buckets');
    expect(usage?.bucket_seq).toBe(1);
    expect(usage?.device_ref).not.toBe('fridge-1'); // a pseudonym: the grant does not include identity
    const [a] = await db.query<{ message: string; device_ref: string }>('SELECT message, device_ref FROM alerts');
    expect(a?.device_ref).toBe(usage?.device_ref);
    expect(a?.message).not.toContain('fridge-1'); // the real id is replaced in the text too
    expect(await db.query('SELECT state FROM gateways')).toEqual([{ state: 'online' }]);
  }, 30_000);
});
