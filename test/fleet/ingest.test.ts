import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { connect } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetDb, postgresDb } from '../../fleet/db/fleetDb.ts';
import { migrate } from '../../fleet/db/migrations.ts';
import type { IngestWorker } from '../../fleet/ingest/worker.ts';
import type { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { alert, coolcoIngest, coolcoWorker, GATEWAY_PASSWORD, providerBroker, status, usage } from './records.ts';

/**
 * Fleet ingest against real parts: Debian mosquitto with TLS and a per-provider ACL, PostgreSQL 15, two
 * ingest workers sharing the provider's streams (MQTT 5 shared subscription), and a gateway's
 * publisher writing protocol v1 records at QoS 1.
 */
const dirs = new TempDirs();
let broker: CloudBroker;
let pg: TempPostgres;
let db: FleetDb;
let gateway: MqttClient;
const workers: IngestWorker[] = [];
const failures: string[] = [];
/** the next commit of this worker's database fails (a database restart, a full disk) */
let failNext = 0;

function flakyDb(real: FleetDb): FleetDb {
  return {
    ...real,
    transaction: (fn) => {
      if (failNext > 0) {
        failNext--;
        return Promise.reject(new Error('connection to the database lost'));
      }
      return real.transaction(fn);
    },
  };
}

beforeAll(async () => {
  broker = await providerBroker(dirs);
  pg = await startPostgres();
  db = await postgresDb(pg.url);
  await migrate(db);
  const ca = readFileSync(broker.certs.ca);
  for (const n of [1, 2]) {
    workers.push(await coolcoWorker(broker, { db: flakyDb(db), clientId: `coolco-ingest-${n}`, onFailure: (err) => failures.push(err.message) }));
  }
  gateway = connect(broker.passwordUrl, { protocolVersion: 5, clientId: 'gw-1', username: 'gw-1', password: GATEWAY_PASSWORD, ca, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    gateway.once('connect', () => resolve());
    gateway.once('error', reject);
  });
}, 60_000);

afterAll(async () => {
  await gateway?.endAsync();
  for (const w of workers) await w.stop();
  await db?.close();
  pg?.stop();
  await broker?.stop();
  dirs.cleanup();
});

const rows = async (sql: string) => (await db.query<{ n: number }>(sql))[0]?.n;
const send = (m: { topic: string; payload: string }, retain = false) => gateway.publishAsync(m.topic, m.payload, { qos: 1, retain });

describe('fleet ingest', () => {
  it('two workers share the stream: every record is committed exactly once, and both took a share', async () => {
    for (let i = 1; i <= 60; i++) await send(usage('gw-1', i, i, `dev-${i % 3}`));
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM usage_buckets')) === 60, 10_000, '60 buckets');
    const [a, b] = workers.map((w) => w.counters.stored);
    expect((a ?? 0) + (b ?? 0)).toBe(60);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });

  it('a redelivered record (the gateway resends after a lost PUBACK) is stored once', async () => {
    for (let i = 0; i < 3; i++) await send(alert('gw-1', 100, 'door held open'));
    await waitFor(async () => workers.reduce((n, w) => n + w.counters.stored, 0) >= 63, 10_000, 'three deliveries handled');
    expect(await rows("SELECT count(*)::int AS n FROM alerts WHERE record_key = 'gw-1:100'")).toBe(1);
  });

  it('a commit that fails is not acknowledged: the broker resends it, and it is stored once', async () => {
    const before = failures.length;
    failNext = 1;
    await send(usage('gw-1', 200, 200, 'dev-late'));
    await waitFor(
      async () => (await rows("SELECT count(*)::int AS n FROM usage_buckets WHERE device_ref = 'dev-late'")) === 1,
      15_000,
      'stored after the resend',
    );
    expect(failures.slice(before)).toEqual(['connection to the database lost']);
    expect(workers.reduce((n, w) => n + w.counters.failed, 0)).toBe(1);
  }, 20_000);

  it('an invalid record is kept and counted, and ingest carries on', async () => {
    await send({ topic: 'trellis/v1/gw-1/p/coolco/health', payload: '{"v":1,"seq":"one"}' });
    await send(usage('gw-1', 300, 300, 'dev-after'));
    // the two may go to different workers, in either order: wait for both
    await waitFor(async () => (await rows("SELECT count(*)::int AS n FROM usage_buckets WHERE device_ref = 'dev-after'")) === 1, 10_000, 'the next record');
    await waitFor(
      async () => (await rows("SELECT count(*)::int AS n FROM invalid_messages WHERE topic = 'trellis/v1/gw-1/p/coolco/health'")) === 1,
      10_000,
      'the invalid one kept',
    );
    expect(workers.reduce((n, w) => n + w.counters.invalid, 0)).toBe(1);
    expect(await rows("SELECT invalid_count AS n FROM gateways WHERE gateway_id = 'gw-1'")).toBe(1);
  });

  it("every worker reads the gateways' retained status (retained messages skip shared subscriptions)", async () => {
    await send(status('gw-1', 'online'), true);
    await waitFor(
      async () => (await db.query<{ state: string }>("SELECT state FROM gateways WHERE gateway_id = 'gw-1'"))[0]?.state === 'online',
      10_000,
      'online',
    );
    const late = await coolcoWorker(broker, { db, clientId: 'coolco-ingest-late' });
    try {
      await waitFor(() => late.counters.stored >= 1, 10_000, 'the retained status reached the new worker');
    } finally {
      await late.stop();
    }
  });

  it('a worker on MQTT 3.1.1 (the fallback for a broker without MQTT 5) joins the same shared group and stores its share once', async () => {
    const old = await coolcoWorker(broker, { db, clientId: 'coolco-ingest-311', mqtt: { ...coolcoIngest(broker, 'x').mqtt, protocolVersion: 4 } });
    try {
      const before = (await rows('SELECT count(*)::int AS n FROM usage_buckets')) ?? 0;
      for (let i = 1; i <= 60; i++) await send(usage('gw-1', 1000 + i, 1000 + i, 'dev-311'));
      await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM usage_buckets')) === before + 60, 10_000, '60 more buckets');
      expect(old.counters.stored).toBeGreaterThan(0);
      expect(old.counters.stored).toBeLessThan(60); // a share, not a copy of everything
    } finally {
      await old.stop();
    }
    // stopped (scaled down), it left the group: nothing more waits in its session for it to return
    const before = (await rows('SELECT count(*)::int AS n FROM usage_buckets')) ?? 0;
    for (let i = 1; i <= 30; i++) await send(usage('gw-1', 2000 + i, 2000 + i, 'dev-after-311'));
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM usage_buckets')) === before + 30, 10_000, 'all 30 with the two workers left');
  });
});
