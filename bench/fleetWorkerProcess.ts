// One ingest worker as its own process (`trellis-fleet start` on PostgreSQL and the provider's
// mosquitto, as a provider runs it): end-to-end lag at steady rates below saturation (publish -> the
// row visible to a reader of the database, polled every 50 ms), and the worker's own RSS from
// /proc/<pid>/status, steady and under a flood.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { CloudBroker } from '../firmware-sim/cloud/cloudBroker.ts';
import type { Wire } from '../firmware-sim/fleetSim/records.ts';
import type { FleetDb } from '../fleet/db/fleetDb.ts';
import { type FigureList, quantile } from './figures.ts';
import { projectRoot } from './root.ts';

export interface WorkerProcessOptions {
  readonly db: FleetDb;
  readonly pgUrl: string;
  readonly broker: CloudBroker;
  readonly publishers: readonly MqttClient[];
  /** usage buckets to publish: the steady phases take from the front, the flood the rest */
  readonly wire: readonly Wire[];
  readonly rates: readonly number[];
  readonly steadySeconds: number;
}

export async function workerProcessFigures(o: WorkerProcessOptions, { add }: FigureList): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-worker-'));
  writeFileSync(join(dir, 'password'), 'cool\n');
  writeFileSync(
    join(dir, 'fleet.yaml'),
    [
      'provider: coolco',
      `dataDir: ${join(dir, 'data')}`,
      `database: {url: "${o.pgUrl}"}`,
      `broker: {url: "${o.broker.passwordUrl}", username: coolco, passwordFile: ${join(dir, 'password')}, ca: ${o.broker.certs.ca}, protocolVersion: 5}`,
      'worker: {id: coolco-process-1, group: ingest-process}',
      'api: {host: 127.0.0.1, port: 0}',
      'checks: {everySeconds: 3600, gapsEverySeconds: 86400}',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'trellis-fleet.mjs'), 'start', '-c', join(dir, 'fleet.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRELLIS_FLEET_LOG: 'warn' },
  });
  try {
    await started(child);
    await o.db.exec('TRUNCATE usage_buckets');
    let next = 0;
    for (const rate of o.rates) {
      const n = Math.min(Math.floor(o.wire.length / 4), rate * o.steadySeconds); // the rest is the flood
      const slice = o.wire.slice(next, next + n);
      next += n;
      const r = await paced(o, child, slice, rate);
      add(
        `one worker process, steady ${rate.toLocaleString('en-US')} records/s: lag p50, publish -> visible in the database`,
        r.p50,
        'ms',
        null,
        null,
        null,
        null,
      );
      add(`one worker process, steady ${rate.toLocaleString('en-US')} records/s: lag p99`, r.p99, 'ms', null, null, null, null);
      add(`one worker process, steady ${rate.toLocaleString('en-US')} records/s: its RSS (peak)`, r.rssPeakMb, 'MB', null, null, null, null);
    }
    const flood = o.wire.slice(next);
    const r = await paced(o, child, flood, Number.POSITIVE_INFINITY);
    add(
      `one worker process, a flood of ${flood.length.toLocaleString('en-US')} records as fast as the gateways send: committed`,
      flood.length / r.seconds,
      'records/s',
      null,
      null,
      null,
      null,
    );
    add('one worker process under that flood: its RSS (peak)', r.rssPeakMb, 'MB', null, null, null, null);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`trellis-fleet start did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Trellis Fleet coolco: API')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (b: Buffer) => void (out += b.toString()));
    child.once('exit', (code) => reject(new Error(`trellis-fleet start exited ${code}: ${out}`)));
  });
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/**
 * Publishes `wire` at `rate` per second (in 10 ms slices; Infinity: all at once), polls the table
 * every 50 ms for the rows that appeared, and samples the worker's RSS meanwhile.
 */
async function paced(o: WorkerProcessOptions, child: ChildProcess, wire: readonly Wire[], rate: number) {
  const keyOf = (topic: string, seq: number) => `${topic.split('/')[2]}/${topic.split('/').at(-1)}/${seq}`;
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let rssPeakMb = 0;
  const t0 = performance.now();
  const wall0 = Date.now();
  let sent = 0;
  const publish = async () => {
    while (sent < wire.length) {
      const due = rate === Number.POSITIVE_INFINITY ? wire.length : Math.min(wire.length, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        const w = wire[sent] as Wire;
        const site = Number(/site-(\d+)/.exec(w.topic)?.[1] ?? 0);
        const seq = Number(/"bucketSeq":(\d+)/.exec(w.payload)?.[1]);
        sentAt.set(keyOf(w.topic, seq), performance.now());
        (o.publishers[site % o.publishers.length] as MqttClient).publish(w.topic, w.payload, { qos: 1 });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const publishing = publish();
  const deadline = Date.now() + 600_000;
  let since = wall0;
  while (seenAt.size < wire.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    rssPeakMb = Math.max(rssPeakMb, rssMb(child.pid as number));
    if (rate === Number.POSITIVE_INFINITY) {
      // a flood: only when the last row is in (reading every row as it lands would load the database it measures)
      const [c] = await o.db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_buckets WHERE received_at >= $1', [wall0]);
      if ((c?.n ?? 0) >= wire.length) for (const k of sentAt.keys()) seenAt.set(k, performance.now());
      continue;
    }
    const rows = await o.db.query<{ g: string; d: string; s: number; r: number }>(
      'SELECT gateway_id AS g, device_ref AS d, bucket_seq AS s, received_at AS r FROM usage_buckets WHERE received_at >= $1',
      [since - 1000],
    );
    const now = performance.now();
    for (const r of rows) {
      const k = `${r.g}/${r.d}/${r.s}`;
      if (!seenAt.has(k)) seenAt.set(k, now);
      since = Math.max(since, Number(r.r));
    }
  }
  await publishing;
  const seconds = (performance.now() - t0) / 1000;
  const lags = [...seenAt.entries()].map(([k, at]) => at - (sentAt.get(k) ?? at)).sort((a, b) => a - b);
  const pct = (p: number) => quantile(lags, p);
  if (seenAt.size < wire.length) throw new Error(`only ${seenAt.size} of ${wire.length} records arrived`);
  return { p50: pct(0.5), p99: pct(0.99), rssPeakMb, seconds };
}
