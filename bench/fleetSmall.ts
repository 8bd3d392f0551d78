// A small provider (100 sites x 10 devices) on each of the fleet's engines: PGlite in the fleet's
// own process (the one-line start's default) and PostgreSQL 15, both behind the embedded broker,
// fed by simulated gateways (firmware-sim/fleetSim/simGateway.ts): the top-of-the-hour burst, a
// day's backlog from every site, and the API with a month of hourly usage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { population } from '../firmware-sim/fleetSim/population.ts';
import type { SimGateway } from '../firmware-sim/fleetSim/simGateway.ts';
import { heldBuckets, simGateways, sitesOf } from '../firmware-sim/fleetSim/sites.ts';
import { addBrokerAccount } from '../fleet/broker/embedded.ts';
import { fleetConfig } from '../fleet/config.ts';
import { postgresDb } from '../fleet/db/fleetDb.ts';
import { type RunningFleet, startFleet } from '../fleet/start.ts';
import type { FigureList } from './figures.ts';
import { MONTH, seedUsage, signIn, timeRequests } from './fleetApi.ts';

const HOUR = 3_600_000;
const SITES = 100;
const START = Date.UTC(2026, 10, 2);

interface EngineFigures {
  burstMs: number;
  backlogPerSecond: number;
  overviewP99: number;
  siteMonthP99: number;
  rssMb: number;
}

export async function smallProviderFigures(clusterUrl: string, { add }: FigureList): Promise<void> {
  const pglite = await onEngine('pglite', clusterUrl);
  const postgres = await onEngine('postgres', clusterUrl);
  const both = (what: string, unit: string, key: keyof EngineFigures) => {
    add(`${SITES} sites on PostgreSQL: ${what}`, postgres[key], unit, null, null, null, null);
    add(`${SITES} sites on PGlite: ${what}`, pglite[key], unit, 'PostgreSQL', postgres[key], null, null);
  };
  both('the top-of-the-hour burst, every bucket committed', 'ms', 'burstMs');
  both("a day's backlog from every site, drained", 'records/s', 'backlogPerSecond');
  both('API p99, the fleet overview', 'ms', 'overviewP99');
  both("API p99, a site's month of usage (a month of hourly usage in the database)", 'ms', 'siteMonthP99');
  both('RSS of the bench process (the fleet with its database in it for PGlite, the gateways)', 'MB', 'rssMb');
}

async function onEngine(engine: 'pglite' | 'postgres', clusterUrl: string): Promise<EngineFigures> {
  const dir = mkdtempSync(join(tmpdir(), `trellis-bench-${engine}-`));
  const admin = engine === 'postgres' ? await postgresDb(clusterUrl, 1) : undefined;
  await admin?.query('DROP DATABASE IF EXISTS small_provider');
  await admin?.query('CREATE DATABASE small_provider');
  let fleet: RunningFleet | undefined;
  const gateways: SimGateway[] = [];
  try {
    fleet = await startFleet(
      fleetConfig({
        provider: 'coolco',
        dataDir: dir,
        ...(admin ? { database: { url: clusterUrl.replace(/\/[^/]*$/, '/small_provider') } } : {}),
        api: { host: '127.0.0.1', port: 0 },
        broker: { embedded: { host: '127.0.0.1', port: 0, tls: false } },
        checks: { everySeconds: 3600, gapsEverySeconds: 86_400 },
      }),
      pino({ level: 'silent' }),
    );
    const db = fleet.db;
    const devices = population({ seed: 11, start: START, sites: SITES, devicesPerSite: 10 });
    for (const gatewayId of sitesOf(devices)) await addBrokerAccount(db, gatewayId, 'pw', Date.now());
    const credentials = (gatewayId: string) => ({ username: gatewayId, password: 'pw' });
    const url = fleet.brokerUrl as string;
    gateways.push(...(await simGateways(devices, { url, provider: 'coolco', protocolVersion: 4, credentials }, START)));
    const held = () => heldBuckets(gateways);
    const stored = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_buckets'))[0]?.n ?? 0;
    const until = async (what: string) => {
      const deadline = Date.now() + 600_000;
      while ((await stored()) < held()) {
        if (Date.now() > deadline) throw new Error(`${engine}: ${what} never arrived`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let t0 = performance.now();
    for (const g of gateways) g.closeHour(START);
    await until('the burst');
    const burstMs = performance.now() - t0;
    for (const g of gateways) await g.offline();
    const before = held();
    for (let h = 1; h <= 24; h++) for (const g of gateways) g.closeHour(START + h * HOUR);
    t0 = performance.now();
    for (const g of gateways) await g.online(START + 25 * HOUR);
    await until('the backlog');
    const backlogPerSecond = (held() - before) / ((performance.now() - t0) / 1000);
    for (const g of gateways) await g.offline();
    const bucket = aBucket(gateways);
    await db.exec('TRUNCATE usage_buckets');
    await seedUsage(db, bucket, 0, 31);
    const token = await signIn(fleet);
    const overview = await timeRequests(fleet.apiUrl, token, '/api/sites', 30);
    const siteMonth = await timeRequests(fleet.apiUrl, token, `/api/usage?month=${MONTH}&gatewayId=${gateways[50]?.records.gatewayId}`, 30);
    return { burstMs, backlogPerSecond, overviewP99: overview.p99, siteMonthP99: siteMonth.p99, rssMb: process.memoryUsage().rss / 1e6 };
  } finally {
    for (const g of gateways) await g.offline();
    await fleet?.stop();
    await admin?.query('DROP DATABASE IF EXISTS small_provider');
    await admin?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One bucket's JSON as a gateway sent it (the first site's first device's first hour). */
function aBucket(gateways: readonly SimGateway[]): string {
  const first = [...((gateways[0] as SimGateway).held.values().next().value as Map<number, { payload: string }>).values()][0];
  return JSON.stringify((JSON.parse(first?.payload as string) as { data: unknown }).data);
}
