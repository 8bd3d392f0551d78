// `npm run bench:fleet`: Trellis Fleet's ingest on PostgreSQL 15 through mosquitto (TLS, MQTT 5
// shared subscription, two worker processes), next to a bare `pg` client inserting the same rows in batches and
// mosquitto relaying the same messages to a bare subscriber, in the same run. Simulated gateways
// (firmware-sim/fleetSim) publish what their device models produce. `-- --quick` for a short run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { CloudBroker } from '../firmware-sim/cloud/cloudBroker.ts';
import { population } from '../firmware-sim/fleetSim/population.ts';
import { GatewayRecords, type Wire } from '../firmware-sim/fleetSim/records.ts';
import { type FleetDb, postgresDb } from '../fleet/db/fleetDb.ts';
import { migrate } from '../fleet/db/migrations.ts';
import { bucketSummary, SUMMARY_COLUMNS, SUMMARY_RECORD, summaryArrays, summaryRecord, summaryValues } from '../fleet/usageSummary.ts';
import type { UsageBucket } from '../protocol/index.ts';
import { freePort } from '../test/helpers/gatewayProcess.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { figureList, quantile } from './figures.ts';
import { apiAtScale } from './fleetApi.ts';
import { riskAtScale } from './fleetRisk.ts';
import { smallProviderFigures } from './fleetSmall.ts';
import { workerProcessFigures } from './fleetWorkerProcess.ts';
import { commitTimes, lags, lastCommit, waitForStored } from './commits.ts';
import { GatewayConnection, route, sendRouted } from './gatewayConnection.ts';
import { CpuGroups, childrenOf, parentOf } from './procStats.ts';
import { startWorkerProcess, type WorkerProcess } from './workerProcess.ts';
import { projectRoot } from './root.ts';

const quick = process.argv.includes('--quick');
/** `--only ingest|worker|small|api|risk`: one part (the whole run takes ~35 minutes, 16 of them writing the risk part's 30 M rows) */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const SITES = quick ? 200 : 2000;
const DEVICES_PER_SITE = 10;
const SUSTAINED_HOURS = quick ? 5 : 3;
const BACKLOG_HOURS = quick ? 6 : 24;
const START = Date.UTC(2026, 10, 2);
const HOUR = 3_600_000;

const list = figureList();
const { figures, add } = list;

/** Each site's hourly usage buckets as its gateway publishes them, from the device models. */
function hoursOfUsage(hours: number, from: number): Wire[][] {
  const fleet = population({ seed: 9, start: START, sites: SITES, devicesPerSite: DEVICES_PER_SITE });
  const records = new Map<string, GatewayRecords>();
  const perHour: Wire[][] = Array.from({ length: hours }, () => []);
  for (const dev of fleet) {
    let g = records.get(dev.gatewayId);
    if (!g) records.set(dev.gatewayId, (g = new GatewayRecords(dev.gatewayId, 'coolco')));
    for (let h = 0; h < hours; h++) {
      const out = dev.model.hour(from + h * HOUR);
      (perHour[h] as Wire[]).push(g.hour(dev.deviceRef, { ...out, signals: [], alerts: [] })[0] as Wire);
    }
  }
  return perHour;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-fleet-'));
  // each row's commit time, from the transaction that wrote it: the benchmarks time commits without polling the table they load
  const pg = await startPostgres({ track_commit_timestamp: 'on' });
  const broker = await startBroker(dir).catch((err: unknown) => {
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const ca = readFileSync(broker.certs.ca);
  const db = await postgresDb(pg.url, 8);
  const publishers: GatewayConnection[] = [];
  try {
    await migrate(db);
    if (!only || only === 'ingest') await ingestFigures(db, pg.url, broker, ca, publishers);
    if (!only || only === 'worker') {
      console.log('one worker in its own process...');
      if (publishers.length === 0) await openPublishers(broker, ca, publishers);
      const wire = hoursOfUsage(quick ? 40 : 6, START + 80 * HOUR).flat();
      await workerProcessFigures(
        { db, pgUrl: pg.url, broker, publishers, wire, rates: [1000, 5000], steadySeconds: 10, month: new Date(START).toISOString().slice(0, 7) },
        list,
      );
    }
    if (!only || only === 'small') {
      console.log('a small provider on PGlite and on PostgreSQL...');
      await smallProviderFigures(pg.url, list);
    }
    if (!only || only === 'api') {
      console.log(`the API with ${SITES} sites x ${DEVICES_PER_SITE} devices and their hourly usage...`);
      await apiAtScale({ clusterUrl: pg.url, sites: SITES, devicesPerSite: DEVICES_PER_SITE, requests: quick ? 20 : 50 }, list);
    }
    if (!only || only === 'risk') {
      console.log('the risk round at 1x, 4x and 16x the devices...');
      await riskAtScale({ clusterUrl: pg.url, sites: [Math.round(SITES / 16), SITES / 4, SITES] }, list);
    }
  } finally {
    for (const p of publishers) await p.close().catch(() => undefined);
    await db.close();
    await broker.stop();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  report();
}

async function startBroker(dir: string): Promise<CloudBroker> {
  const broker = new CloudBroker({
    dir,
    users: { gateways: 'gw', coolco: 'cool', bare: 'bare' },
    certificateClients: [],
    passwordPort: await freePort(),
    certificatePort: await freePort(),
  });
  await broker.start();
  return broker;
}

/** Sustained ingest, the top-of-the-hour burst and the backlog drain, each next to its baselines. */
async function ingestFigures(db: FleetDb, url: string, broker: CloudBroker, ca: Buffer, publishers: GatewayConnection[]): Promise<void> {
  console.log(`simulating ${SITES} sites x ${DEVICES_PER_SITE} devices...`);
  const sustained = hoursOfUsage(SUSTAINED_HOURS, START).flat();
  await openPublishers(broker, ca, publishers);

  // where the machine's CPU goes: PostgreSQL is its postmaster and every process under it
  const [backend] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const postmaster = parentOf(backend?.pid as number);
  const workers: WorkerProcess[] = [];
  const cpu = new CpuGroups({
    workers: () => workers.map((w) => w.child.pid as number),
    postgres: () => [postmaster, ...childrenOf(postmaster)],
    mosquitto: () => (broker.pid ? [broker.pid] : []),
    gateways: () => [process.pid],
  });
  const perThousand = (seconds: number, records: number) => (seconds * 1e6) / records;

  const unnest = await bareInsert(db, sustained, 'unnest');
  add(`bare pg insert, ${sustained.length.toLocaleString('en-US')} usage rows in batches of 1,000 (unnest)`, unnest, 'rows/s', null, null, null, null);
  const beforeBare = cpu.take();
  const recordset = await bareInsert(db, sustained, 'recordset');
  const bareCpu = cpu.since(beforeBare);
  add('bare pg insert, the same rows in batches of 1,000 (jsonb_to_recordset, as the ingest writes them)', recordset, 'rows/s', null, null, null, null);
  // the goal is against the faster of the two
  const bare = Math.max(unnest, recordset);
  const relay = await mosquittoRelay(broker, ca, publishers, sustained);
  add('mosquitto relaying them (QoS 1) to one bare subscriber', relay, 'messages/s', null, null, null, null);

  await db.exec('TRUNCATE usage_buckets, gateways');
  // two `trellis-fleet start` processes, as a provider runs them (in this process they would share its event loop and its heap with the gateways it simulates)
  try {
    for (const id of ['coolco-1', 'coolco-2']) workers.push(await startWorkerProcess(url, broker, id, 'ingest'));
    const ingest = await timeToCommit(db, publishers, sustained, sustained.length, workers, cpu);
    const used = ingest.cpuUsed;
    add(
      `ingest, two worker processes on PostgreSQL, ${sustained.length.toLocaleString('en-US')} usage buckets published as fast as the gateways can`,
      ingest.perSecond,
      'records/s',
      `the faster bare pg insert of the same rows (${bare === unnest ? 'unnest' : 'jsonb_to_recordset'})`,
      bare,
      '>= 0.5x and >= 20,000/s',
      ingest.perSecond >= 0.5 * bare && ingest.perSecond >= 20_000,
    );
    add('the same, against mosquitto relaying them to a bare subscriber', ingest.perSecond, 'records/s', 'mosquitto relay', relay, null, null);
    const n = sustained.length;
    add(
      'CPU per 1,000 records, sustained ingest: PostgreSQL',
      perThousand(used.postgres ?? 0, n),
      'ms',
      'PostgreSQL in the bare jsonb_to_recordset insert',
      perThousand(bareCpu.postgres ?? 0, n),
      null,
      null,
    );
    add('CPU per 1,000 records, sustained ingest: the two worker processes', perThousand(used.workers ?? 0, n), 'ms', null, null, null, null);
    add('CPU per 1,000 records, sustained ingest: mosquitto', perThousand(used.mosquitto ?? 0, n), 'ms', null, null, null, null);
    add('CPU per 1,000 records, sustained ingest: the simulated gateways (this process)', perThousand(used.gateways ?? 0, n), 'ms', null, null, null, null);
    const total = Object.values(used).reduce((a, b) => a + b, 0);
    add(
      `CPU per 1,000 records, sustained ingest, all of it: the ${cpus().length} cores could carry at most ${Math.round((cpus().length * n) / total).toLocaleString('en-US')} records/s`,
      perThousand(total, n),
      'ms',
      null,
      null,
      null,
      null,
    );
    add('lag p50, publish -> the commit that stored it, sustained run', ingest.lagP50, 'ms', null, null, null, null);
    add('lag p99, publish -> the commit that stored it, sustained run', ingest.lagP99, 'ms', null, null, null, null);
    add('mean records per commit (group commit), sustained run', ingest.perCommit, 'records', null, null, null, null);
    add('RSS of each worker process (peak), sustained run', ingest.workerRssPeakMb, 'MB', null, null, null, null);

    await db.exec('TRUNCATE usage_buckets, gateways');
    const burst = hoursOfUsage(1, START + 30 * HOUR).flat();
    const top = await timeToCommit(db, publishers, burst, burst.length, workers);
    add(
      `top-of-the-hour burst, ${SITES} sites' ${burst.length.toLocaleString('en-US')} devices closing the same hour: every bucket committed`,
      top.seconds * 1000,
      'ms',
      null,
      null,
      null,
      null,
    );

    await db.exec('TRUNCATE usage_buckets, gateways');
    const backlog = hoursOfUsage(BACKLOG_HOURS, START + 40 * HOUR).flat();
    const drain = await timeToCommit(db, publishers, backlog, backlog.length, workers);
    add(
      `backlog drain, ${SITES} sites back after ${BACKLOG_HOURS} h offline (${backlog.length.toLocaleString('en-US')} buckets)`,
      drain.seconds,
      's',
      null,
      null,
      null,
      null,
    );
    add('backlog drain rate', drain.perSecond, 'records/s', 'bare pg insert', bare, null, null);
    add('RSS of each worker process (peak), backlog drain', drain.workerRssPeakMb, 'MB', null, null, null, null);
    add('RSS of this process (the simulated gateways, the bench)', process.memoryUsage().rss / 1e6, 'MB', null, null, null, null);
  } finally {
    for (const w of workers) await w.stop();
  }
}

/** The simulated gateways' connections: one per 20 sites (each publishes its sites' records in order), so the bench process is not 2,000 TLS sockets. */
async function openPublishers(broker: CloudBroker, ca: Buffer, publishers: GatewayConnection[]): Promise<void> {
  for (let i = 0; i < Math.max(2, SITES / 20); i++) publishers.push(await GatewayConnection.open(broker, ca, 'gateways', 'gw', `gw-${i}`));
}

/** The bare subscriber of the mosquitto relay: an MQTT.js client. */
function open(broker: CloudBroker, ca: Buffer, username: string, password: string, clientId: string): Promise<MqttClient> {
  const c = connect(broker.passwordUrl, { username, password, ca, clientId, protocolVersion: 5, reconnectPeriod: 500 });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** A bare `pg` client inserting the same rows 1,000 per statement: `unnest` of one array per column, or one JSON array through `jsonb_to_recordset` (what the ingest does). */
async function bareInsert(db: FleetDb, wire: readonly Wire[], how: 'unnest' | 'recordset'): Promise<number> {
  const rows = wire.map((w) => {
    const r = JSON.parse(w.payload) as { gatewayId: string; data: UsageBucket & { bucketSeq: number } };
    const summary = bucketSummary(r.data);
    return { g: r.gatewayId, d: r.data.deviceId, s: r.data.bucketSeq, st: r.data.start, en: r.data.end, data: r.data, summary };
  });
  await db.exec('TRUNCATE usage_buckets');
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    const b = rows.slice(i, i + 1000);
    if (how === 'recordset')
      await db.query(
        `INSERT INTO usage_buckets (gateway_id, provider, device_ref, bucket_seq, start_at, end_at, data, received_at, ${SUMMARY_COLUMNS})
         SELECT g, 'coolco', d, s, st, en, x, 0, ${SUMMARY_RECORD.names}
         FROM jsonb_to_recordset($1::jsonb) AS u(g text, d text, s int, st bigint, en bigint, x jsonb, ${SUMMARY_RECORD.types})`,
        [JSON.stringify(b.map((r) => ({ g: r.g, d: r.d, s: r.s, st: r.st, en: r.en, x: r.data, ...summaryRecord(r.summary) })))],
      );
    else
      await db.query(
        `INSERT INTO usage_buckets (gateway_id, provider, device_ref, bucket_seq, start_at, end_at, data, received_at, ${SUMMARY_COLUMNS})
         SELECT g, 'coolco', d, s, st, en, x::jsonb, 0, wh, os, ns, ds, no, cs, c::jsonb, gp::jsonb
         FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::text[],
           $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::text[], $14::text[])
           AS u(g, d, s, st, en, x, wh, os, ns, ds, no, cs, c, gp)`,
        [
          b.map((r) => r.g),
          b.map((r) => r.d),
          b.map((r) => r.s),
          b.map((r) => r.st),
          b.map((r) => r.en),
          b.map((r) => JSON.stringify(r.data)),
          ...summaryArrays(b.map((r) => summaryValues(r.summary))),
        ],
      );
  }
  return rows.length / ((performance.now() - t0) / 1000);
}

async function mosquittoRelay(broker: CloudBroker, ca: Buffer, publishers: GatewayConnection[], wire: readonly Wire[]): Promise<number> {
  const sub = await open(broker, ca, 'bare', 'bare', 'bare-subscriber');
  await sub.subscribeAsync('trellis/v1/+/p/coolco/#', { qos: 1 });
  let n = 0;
  let last = 0;
  sub.on('message', () => {
    n++;
    last = performance.now();
  });
  const routed = route(publishers, wire);
  const t0 = performance.now();
  sendRouted(routed, 0, routed.length, new Map());
  const deadline = Date.now() + 300_000;
  while (n < wire.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await sub.endAsync();
  return n / ((last - t0) / 1000);
}

/**
 * Publishes and waits until `expected` rows are committed (a count every 250 ms: a scan of the
 * table it loads, so not more often); the time and the lag are to each row's commit, from
 * PostgreSQL's commit timestamps (`track_commit_timestamp`), not to the poll that saw it.
 */
async function timeToCommit(
  db: FleetDb,
  publishers: GatewayConnection[],
  wire: readonly Wire[],
  expected: number,
  workers: readonly WorkerProcess[],
  cpu?: CpuGroups,
) {
  const routed = route(publishers, wire);
  const cpuBefore = cpu?.take();
  const wall0 = Date.now();
  const sentAt = new Map<string, number>();
  sendRouted(routed, 0, routed.length, sentAt);
  let workerRssPeakMb = 0;
  const n = await waitForStored(db, wall0, expected, () => {
    for (const w of workers) workerRssPeakMb = Math.max(workerRssPeakMb, w.rssMb());
  });
  // up to here: not the reading of the commit times below
  const cpuUsed = cpu && cpuBefore ? cpu.since(cpuBefore) : {};
  const committedAt = await commitTimes(db, wall0);
  const sorted = lags(sentAt, committedAt);
  const pct = (p: number) => quantile(sorted, p);
  const commits = new Set(committedAt.values());
  const seconds = (lastCommit(committedAt, wall0) - wall0) / 1000;
  const perCommit = committedAt.size / Math.max(1, commits.size);
  return { seconds, perSecond: n / seconds, lagP50: pct(0.5), lagP99: pct(0.99), perCommit, workerRssPeakMb, cpuUsed };
}

function report() {
  const out = { date: new Date().toISOString(), quick, machine: { cores: cpus().length, node: process.version }, figures };
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fleet-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  for (const f of figures)
    console.log(
      `${f.name}: ${f.value} ${f.unit}${f.baseline ? ` | ${f.baseline}: ${f.baselineValue} (${f.ratio}x)` : ''}${f.goal ? ` | goal ${f.goal}: ${f.met ? 'met' : 'MISSED'}` : ''}`,
    );
  console.log('\nwritten to bench/results/fleet-latest.json');
}

await main();
