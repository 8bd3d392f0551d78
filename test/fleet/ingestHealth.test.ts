import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { IngestHealth } from '../../fleet/ingest/health.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { usage } from './records.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * When the fleet's database refuses commits (full, a quota, a broken table), nothing can be written
 * to say so: `/api/health` says it (503, 'degraded', since when, the SQLSTATE), from the first refused
 * commit until one commits again, and the records wait on the broker meanwhile and are stored after.
 */
const dirs = new TempDirs();
let f: TestFleet;
let gw: MqttClient;

beforeAll(async () => {
  f = await startTestFleet(dirs);
  await addBrokerAccount(f.fleet.db, 'gw-h', 'gw-h-secret', Date.now());
  gw = connect(f.fleet.brokerUrl as string, { username: 'gw-h', password: 'gw-h-secret', clientId: 'gw-h', protocolVersion: 4, reconnectPeriod: 200 });
  gw.on('error', () => undefined);
  await new Promise((r) => gw.once('connect', r));
}, 60_000);

afterAll(async () => {
  await gw?.endAsync(true);
  await f?.stop();
  dirs.cleanup();
});

describe('ingest health', () => {
  it('reports ok while records commit, degraded with the SQLSTATE while they cannot, and ok again once one commits; nothing is lost', async () => {
    const health = () =>
      f.call<{ status: string; ingestFailing: { since: number; commits: number; sqlState: string | null } | null }>(undefined, 'GET', '/api/health');
    const first = usage('gw-h', 1, 1);
    await gw.publishAsync(first.topic, first.payload, { qos: 1 });
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok', ingestFailing: null } });

    // the table usage is stored in is gone: every commit with a usage record fails
    await f.fleet.db.query('ALTER TABLE usage_buckets RENAME TO usage_buckets_away');
    const before = Date.now();
    const second = usage('gw-h', 2, 2);
    void gw.publishAsync(second.topic, second.payload, { qos: 1 }).catch(() => undefined); // acknowledged only once stored
    await waitFor(async () => (await health()).status === 503, 10_000, 'health to say the ingest is failing');
    const degraded = await health();
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.ingestFailing?.sqlState).toBe('42P01'); // undefined_table
    expect(degraded.body.ingestFailing?.since).toBeGreaterThanOrEqual(before);
    expect(degraded.body.ingestFailing?.commits).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(degraded.body)).not.toContain('usage_buckets'); // the error's text is not repeated

    await f.fleet.db.query('ALTER TABLE usage_buckets_away RENAME TO usage_buckets');
    // the gateway's client sends the unacknowledged record again when it reconnects
    await waitFor(async () => (await health()).status === 200, 20_000, 'health to be ok again');
    const stored = async () => (await f.fleet.db.query<{ n: number }>("SELECT count(*)::int AS n FROM usage_buckets WHERE gateway_id = 'gw-h'"))[0]?.n;
    await waitFor(async () => (await stored()) === 2, 20_000, 'both buckets stored');
    expect(await stored()).toBe(2);
  }, 60_000);

  it('keeps the first failure time, counts the failures, and tells once per change', () => {
    const changes: unknown[] = [];
    const h = new IngestHealth((x) => changes.push(x));
    h.committed();
    expect(h.failing).toBeUndefined();
    h.failed(Object.assign(new Error('could not extend file'), { code: '53100' }), 1000);
    h.failed(new Error('no code'), 2000);
    expect(h.failing).toEqual({ since: 1000, commits: 2, sqlState: null });
    h.failed(Object.assign(new Error('x'), { code: 'not a sqlstate' }), 3000);
    expect(h.failing?.sqlState).toBeNull();
    h.committed();
    h.committed();
    expect(h.failing).toBeUndefined();
    expect(changes).toEqual([{ since: 1000, commits: 1, sqlState: '53100' }, undefined]);
  });
});
