import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetDb, postgresDb } from '../../fleet/db/fleetDb.ts';
import type { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';
import { GATEWAY_PASSWORD, HOUR, providerBroker } from './records.ts';

/**
 * Two `trellis-fleet start` worker processes on PostgreSQL 15 share the stream of a gateway that
 * drains 3,000 usage buckets through mosquitto (TLS). Mid-burst one worker is SIGKILLed (and started
 * again, as its supervisor would) and the broker is restarted. At the end the fleet holds every bucket
 * exactly once, equal to the gateway's own: nothing lost, nothing double-counted.
 */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'trellis-fleet.mjs');
/** `npm run soak:fleet` runs this bigger: FAULTS_SITES devices (at least 30) over 100 hours or FAULTS_HOURS if more */
const DEVICES = Math.max(30, Number(process.env.FAULTS_SITES ?? 30));
const HOURS = Math.max(100, Number(process.env.FAULTS_HOURS ?? 100));
/** waits grow with the burst (3,000 buckets by default) */
const SCALE = Math.max(1, (DEVICES * HOURS) / 3000);
const dirs = new TempDirs();
let broker: CloudBroker;
let pg: TempPostgres;
let db: FleetDb;
let gw: TestGateway;
const workers = new Map<number, ChildProcess>();
const configs = new Map<number, string>();

function startWorker(n: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '-c', configs.get(n) as string], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRELLIS_FLEET_LOG: 'warn' },
  });
  workers.set(n, child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${n} did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Trellis Fleet coolco: API')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${n} exited with ${code}:\n${out}`));
    });
  });
}

function kill(n: number): Promise<void> {
  const child = workers.get(n);
  workers.delete(n);
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  broker = await providerBroker(dirs);
  pg = await startPostgres();
  db = await postgresDb(pg.url);
  const dir = dirs.make('trellis-workers-');
  writeFileSync(join(dir, 'coolco-pw'), 'cool-secret');
  for (const n of [1, 2]) {
    const file = join(dir, `fleet-${n}.yaml`);
    writeFileSync(
      file,
      [
        'provider: coolco',
        `dataDir: ${join(dir, `data-${n}`)}`,
        `database: {url: "${pg.url}"}`,
        `broker: {url: "${broker.passwordUrl}", username: coolco, passwordFile: ${join(dir, 'coolco-pw')}, ca: ${broker.certs.ca}}`,
        `worker: {id: coolco-${n}, group: ingest}`,
        `api: {host: 127.0.0.1, port: ${await freePort()}}`,
        'checks: {everySeconds: 1, gapsEverySeconds: 1, gapSettleSeconds: 1}',
        '',
      ].join('\n'),
    );
    configs.set(n, file);
  }
  await startWorker(1);
  await startWorker(2);
  writeFileSync(join(dir, 'gw-pw'), GATEWAY_PASSWORD);
  gw = await startTestGateway(
    {
      gatewayId: 'gw-1',
      cloud: { url: broker.passwordUrl, username: 'gw-1', passwordFile: join(dir, 'gw-pw'), ca: broker.certs.ca, backoffMinMs: 100, backoffMaxMs: 1000 },
    },
    dirs,
  );
  gw.running.grants.add({ providerId: 'coolco', devices: ['*'], classes: ['usage'] });
}, 90_000);

afterAll(async () => {
  for (const n of [...workers.keys()]) await kill(n);
  await gw?.stop();
  await db?.close();
  pg?.stop();
  await broker?.stop();
  dirs.cleanup();
});

const stored = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_buckets'))[0]?.n ?? 0;

describe('fleet workers under SIGKILL and a broker restart', () => {
  it(
    `store all ${DEVICES * (HOURS + 1)} buckets of a burst and the hour after it exactly once, equal to the gateway's (gap repair included)`,
    async () => {
      const cloud = gw.running.cloud;
      if (!cloud) throw new Error('no cloud sync');
      const t0 = Math.floor(Date.now() / HOUR) * HOUR - (HOURS + 1) * HOUR;
      const insert = gw.running.db.prepare<[string, number, number, string], { seq: number }>(
        'INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?) RETURNING seq',
      );
      for (let d = 0; d < DEVICES; d++)
        gw.running.registry.upsert({
          id: `dev-${d}`,
          name: `Meter ${d}`,
          protocol: 'mqtt',
          owner: `dev-${d}`,
          attributes: { energy: { type: 'number', writable: false } },
        });
      const queueHour = (h: number) =>
        gw.running.db.transaction(() => {
          for (let d = 0; d < DEVICES; d++) {
            const start = t0 + h * HOUR;
            const bucket = {
              deviceId: `dev-${d}`,
              start,
              end: start + HOUR,
              localStart: new Date(start).toISOString(),
              metrics: { energy: { role: 'energy' as const, unit: 'Wh' as const, delta: d * 1000 + h, resets: 0, rollovers: 0, samples: 60 } },
              gaps: [],
              offlineSeconds: 0,
            };
            const { seq } = insert.get(bucket.deviceId, start, start + HOUR, JSON.stringify(bucket)) as { seq: number };
            cloud.queueUsage([{ ...bucket, seq }]);
          }
        })();
      for (let h = 0; h < HOURS; h++) queueHour(h);
      const burst = DEVICES * HOURS;
      await waitFor(async () => (await stored()) >= burst * 0.15, 60_000 * SCALE, 'the burst under way');
      await kill(1);
      await waitFor(async () => (await stored()) >= burst * 0.4, 60_000 * SCALE, 'the burst going on with one worker');
      await broker.stop();
      await new Promise((r) => setTimeout(r, 500));
      await broker.start();
      await startWorker(1);
      // mosquitto 2.0.11 restored from its persistence file hands the shared group nothing until its
      // workers subscribe again, so what a gateway publishes in that moment is acknowledged to it and
      // delivered to nobody. The next hour's buckets show the hole, and gap repair has it sent again.
      await new Promise((r) => setTimeout(r, 1000));
      queueHour(HOURS);
      const total = DEVICES * (HOURS + 1);
      await waitFor(async () => (await stored()) === total, 120_000 * SCALE, `all ${total} buckets`);
      await new Promise((r) => setTimeout(r, 2000)); // anything late or doubled would land now
      expect(await stored()).toBe(total);
      const fleet = await db.query<{ device_ref: string; bucket_seq: number; start_at: number; delta: number }>(
        "SELECT device_ref, bucket_seq, start_at, (data->'metrics'->'energy'->>'delta')::int AS delta FROM usage_buckets ORDER BY bucket_seq",
      );
      const ref = new Map(Array.from({ length: DEVICES }, (_, d) => [gw.running.grants.pseudonym('coolco', `dev-${d}`), d]));
      const rows = gw.running.db.prepare('SELECT seq, device_id, start FROM usage_buckets ORDER BY seq').all() as Array<{
        seq: number;
        device_id: string;
        start: number;
      }>;
      expect(fleet.map((r) => [r.bucket_seq, `dev-${ref.get(r.device_ref)}`, r.start_at])).toEqual(rows.map((r) => [r.seq, r.device_id, r.start]));
      const sum = fleet.reduce((a, r) => a + r.delta, 0);
      expect(sum).toBe(
        Array.from({ length: DEVICES }, (_, d) => Array.from({ length: HOURS + 1 }, (_, h) => d * 1000 + h).reduce((a, b) => a + b, 0)).reduce(
          (a, b) => a + b,
          0,
        ),
      );
    },
    240_000 * SCALE,
  );
});
