// One ingest worker as its own process (`trellis-fleet start` on PostgreSQL and the provider's
// mosquitto, as a provider runs it): end-to-end lag at steady rates below saturation (publish -> the
// row's commit, from PostgreSQL's commit timestamps; publish -> visible in the worker's API, sampled),
// and the worker's own RSS from /proc/<pid>/status, steady and under a flood.
import type { CloudBroker } from '../firmware-sim/cloud/cloudBroker.ts';
import type { Wire } from '../firmware-sim/fleetSim/records.ts';
import type { FleetDb } from '../fleet/db/fleetDb.ts';
import { People } from '../fleet/people.ts';
import { visibleLags } from './apiVisible.ts';
import { type FigureList, quantile } from './figures.ts';
import { commitTimes, lags, lastCommit, waitForStored } from './commits.ts';
import { type GatewayConnection, route, sendRouted } from './gatewayConnection.ts';
import { startWorkerProcess, type WorkerProcess } from './workerProcess.ts';

export interface WorkerProcessOptions {
  readonly db: FleetDb;
  readonly pgUrl: string;
  readonly broker: CloudBroker;
  readonly publishers: readonly GatewayConnection[];
  /** usage buckets to publish: the steady phases take from the front, the flood the rest */
  readonly wire: readonly Wire[];
  readonly rates: readonly number[];
  readonly steadySeconds: number;
  /** the month the records are in, YYYY-MM (the API's usage is asked for it) */
  readonly month: string;
}

export async function workerProcessFigures(o: WorkerProcessOptions, { add }: FigureList): Promise<void> {
  const worker = await startWorkerProcess(o.pgUrl, o.broker, 'coolco-process-1', 'ingest-process');
  try {
    await o.db.exec('TRUNCATE usage_buckets');
    const people = new People(o.db);
    await people.add('bench-dispatcher', 'dispatcher', 'bench-dispatcher-password');
    const token = (await people.signIn('bench-dispatcher', 'bench-dispatcher-password'))?.token as string;
    let next = 0;
    for (const rate of o.rates) {
      const n = Math.min(Math.floor(o.wire.length / 4), rate * o.steadySeconds); // the rest is the flood
      const slice = o.wire.slice(next, next + n);
      next += n;
      const r = await paced(o, worker, slice, rate, token);
      const steady = `one worker process, steady ${rate.toLocaleString('en-US')} records/s`;
      add(`${steady}: lag p50, publish -> committed`, r.p50, 'ms', null, null, null, null);
      add(`${steady}: lag p99`, r.p99, 'ms', null, null, null, null);
      const v = r.visible as NonNullable<typeof r.visible>;
      const seen = `${v.lags.length} sampled records, ${v.unseen} not seen within 10 s`;
      add(`${steady}: lag p50, publish -> visible in the API (${seen})`, quantile(v.lags, 0.5), 'ms', null, null, null, null);
      add(`${steady}: lag p99, publish -> visible in the API`, quantile(v.lags, 0.99), 'ms', null, null, null, null);
      if (v.unseen > 0) throw new Error(`${steady}: ${seen}`);
      add(`${steady}: its RSS (peak)`, r.rssPeakMb, 'MB', null, null, null, null);
    }
    const flood = o.wire.slice(next);
    const r = await paced(o, worker, flood, Number.POSITIVE_INFINITY);
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
    await worker.stop();
  }
}

/**
 * Publishes `wire` at `rate` per second (in 10 ms slices; Infinity: all at once), waits for its rows
 * (a count every 250 ms, sampling the worker's RSS), and takes each row's lag from its commit
 * timestamp (`track_commit_timestamp`), so the lag is not the poll's and the poll does not load the database.
 */
async function paced(o: WorkerProcessOptions, worker: WorkerProcess, wire: readonly Wire[], rate: number, token?: string) {
  const sentAt = new Map<string, number>();
  let rssPeakMb = 0;
  const routed = route(o.publishers, wire);
  const t0 = performance.now();
  const wall0 = Date.now();
  let sent = 0;
  const publish = async () => {
    while (sent < wire.length) {
      const due = rate === Number.POSITIVE_INFINITY ? wire.length : Math.min(wire.length, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      sendRouted(routed, sent, due, sentAt);
      sent = due;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const publishing = publish();
  // at a steady rate, sampled records looked for through the worker's API meanwhile
  const visible =
    token === undefined
      ? undefined
      : visibleLags({ apiUrl: worker.apiUrl, token, month: o.month, wire, ids: routed.map((r) => r.id), sentAt, sent: () => sent, rate, everyMs: 100 });
  const stored = await waitForStored(o.db, wall0, wire.length, () => {
    rssPeakMb = Math.max(rssPeakMb, worker.rssMb());
  });
  await publishing;
  const seen = await visible;
  if (stored < wire.length) throw new Error(`only ${stored} of ${wire.length} records arrived`);
  const committedAt = await commitTimes(o.db, wall0);
  const sorted = lags(sentAt, committedAt);
  const pct = (p: number) => quantile(sorted, p);
  return { p50: pct(0.5), p99: pct(0.99), rssPeakMb, seconds: (lastCommit(committedAt, wall0) - wall0) / 1000, visible: seen };
}
