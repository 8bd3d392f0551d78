// The fleet API's latency with a provider's size of data: 2,000 sites x 10 devices (manifests and
// health through the real ingest path) and their hourly usage, at 1x, 4x and 16x the rows (2, 8 and
// 32 days: the last is a month), each endpoint the console calls timed through a real trellis-fleet
// (startFleet on PostgreSQL 15). The bulk of the rows is written by the database itself
// (generate_series over a real bucket's JSON), which is what keeps 15 M rows inside a bench run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { manifestEntry, population } from '../firmware-sim/fleetSim/population.ts';
import { GatewayRecords, type Wire } from '../firmware-sim/fleetSim/records.ts';
import { fleetConfig } from '../fleet/config.ts';
import { type FleetDb, postgresDb } from '../fleet/db/fleetDb.ts';
import { migrate } from '../fleet/db/migrations.ts';
import { storeBatch } from '../fleet/ingest/batch.ts';
import { type RunningFleet, startFleet } from '../fleet/start.ts';
import { bucketSummary, SUMMARY_COLUMNS, summaryValues } from '../fleet/usageSummary.ts';
import type { UsageBucket } from '../protocol/index.ts';
import { type FigureList, quantile } from './figures.ts';

const HOUR = 3_600_000;
/** the month the usage is asked for; the data starts on its first day */
export const MONTH = '2026-10';
const FROM = Date.UTC(2026, 9, 1);
const SIZES = [
  { name: '1x', days: 2 },
  { name: '4x', days: 8 },
  { name: '16x', days: 32 },
] as const;

export interface ApiScaleOptions {
  readonly clusterUrl: string;
  readonly sites: number;
  readonly devicesPerSite: number;
  /** requests per endpoint and size */
  readonly requests: number;
}

/** Seeds, starts a fleet on the data, and adds each endpoint's p50/p99 per size (and its growth against 1x) to `figures`. */
export async function apiAtScale(o: ApiScaleOptions, { add }: FigureList): Promise<void> {
  const admin = await postgresDb(o.clusterUrl, 1);
  await admin.query('DROP DATABASE IF EXISTS api_scale');
  await admin.query('CREATE DATABASE api_scale');
  const url = o.clusterUrl.replace(/\/[^/]*$/, '/api_scale');
  const db = await postgresDb(url, 4);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-api-'));
  let fleet: RunningFleet | undefined;
  try {
    await migrate(db);
    const template = await seedSites(db, o.sites, o.devicesPerSite);
    const devices = o.sites * o.devicesPerSite;
    const config = fleetConfig({
      provider: 'coolco',
      dataDir: dir,
      database: { url },
      api: { host: '127.0.0.1', port: 0 },
      broker: { embedded: { host: '127.0.0.1', port: 0, tls: false } },
      // the periodic jobs would read the month each minute: not what is measured here
      checks: { everySeconds: 3600, gapsEverySeconds: 86_400 },
    });
    fleet = await startFleet(config, pino({ level: 'silent' }));
    const token = await signIn(fleet);
    const base = new Map<string, number>();
    let days = 0;
    for (const size of SIZES) {
      const t0 = performance.now();
      await seedUsage(db, template, days, size.days);
      days = size.days;
      await db.exec('ANALYZE'); // every table: the health and device lookups of the overview too
      const rows = devices * days * 24;
      console.log(`  ${size.name}: ${rows.toLocaleString('en-US')} usage rows (${((performance.now() - t0) / 1000).toFixed(0)} s to write)`);
      const middle = Math.floor(o.sites / 2);
      const site = `site-${String(middle).padStart(4, '0')}`;
      // [what, path, requests]: a customer's month reads 50 sites' buckets, seconds at 16x
      const endpoints: Array<[string, string, number]> = [
        ['the fleet overview (every site with its latest health, devices and alarms)', '/api/sites', o.requests],
        ['a site', `/api/sites/${site}`, o.requests],
        ["a device (its 30 days' signals and daily usage)", `/api/sites/${site}/devices/d3`, o.requests],
        ["a site's month of usage", `/api/usage?month=${MONTH}&gatewayId=${site}`, o.requests],
        ["a customer's month of usage (50 sites)", `/api/usage?month=${MONTH}&customer=customer-${Math.floor(middle / 50)}`, 10],
      ];
      for (const [what, path, n] of endpoints) {
        const t = await timeRequests(fleet.apiUrl, token, path, n);
        if (!base.has(what)) base.set(what, t.p99);
        const first = base.get(what) as number;
        add(`API p50, ${what}, ${size.name} (${rows.toLocaleString('en-US')} rows)`, t.p50, 'ms', null, null, null, null);
        add(
          `API p99${n < 100 ? ` (the slowest of ${n})` : ''}, ${what}, ${size.name}`,
          t.p99,
          'ms',
          size.name === '1x' ? null : 'the same at 1x',
          size.name === '1x' ? null : first,
          null,
          null,
        );
      }
      const all = await timeRequests(fleet.apiUrl, token, `/api/usage?month=${MONTH}`, 1);
      add(
        `API, the whole fleet's month of usage (${devices.toLocaleString('en-US')} devices, one request), ${size.name}`,
        all.p50,
        'ms',
        null,
        null,
        null,
        null,
      );
    }
  } finally {
    await fleet?.stop();
    await db.close();
    await admin.query('DROP DATABASE IF EXISTS api_scale');
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every site's manifest (its devices), status and a few health records through the ingest path, with
 * 50 sites to a customer; returns one real usage bucket's JSON (a fridge's) as the rows' template.
 */
export async function seedSites(db: FleetDb, sites: number, devicesPerSite: number): Promise<string> {
  const fleet = population({ seed: 5, start: FROM, sites, devicesPerSite });
  const bySite = new Map<string, typeof fleet>();
  for (const d of fleet) bySite.set(d.gatewayId, [...(bySite.get(d.gatewayId) ?? []), d]);
  let template: string | undefined;
  const wire: Wire[] = [];
  for (const [gatewayId, devs] of bySite) {
    const g = new GatewayRecords(gatewayId, 'coolco');
    wire.push(g.manifest(FROM, devs.map(manifestEntry)));
    for (let i = 0; i < 3; i++) wire.push(g.health(FROM + i * 60_000, i, devs.length));
    if (!template) {
      const dev = devs.find((d) => d.model.kind === 'fridge') ?? (devs[0] as (typeof devs)[number]);
      const usage = g.hour(dev.deviceRef, { ...dev.model.hour(FROM), signals: [], alerts: [] })[0] as Wire;
      template = JSON.stringify((JSON.parse(usage.payload) as { data: unknown }).data);
    }
  }
  for (let i = 0; i < wire.length; i += 1000)
    await db.transaction((tx) =>
      storeBatch(
        tx,
        wire.slice(i, i + 1000).map((w) => ({ topic: w.topic, payload: Buffer.from(w.payload) })),
        FROM,
      ),
    );
  await db.query(`UPDATE gateways SET customer = 'customer-' || (substr(gateway_id, 6)::int / 50)`);
  return template as string;
}

/** Hourly buckets of days [from, to) for every device (each the template's, with its summary), written by the database a day at a time. */
export async function seedUsage(db: FleetDb, template: string, from: number, to: number): Promise<void> {
  const summary = summaryValues(bucketSummary(JSON.parse(template) as UsageBucket));
  // each bucket's JSON differs (its site too), as real buckets' do: PostgreSQL caches the walk of a
  // JSON value it has seen (Memoize), and identical buckets made the risk round's walk look 3x cheaper
  for (let day = from; day < to; day++)
    await db.query(
      `INSERT INTO usage_buckets (gateway_id, provider, device_ref, bucket_seq, start_at, end_at, data, received_at, ${SUMMARY_COLUMNS})
       SELECT d.gateway_id, 'coolco', d.device_ref, h, $2::bigint + h * ${HOUR}, $2::bigint + (h + 1) * ${HOUR},
         $1::jsonb || jsonb_build_object('site', d.gateway_id, 'deviceId', d.device_ref, 'bucketSeq', h, 'start', $2::bigint + h * ${HOUR}, 'end', $2::bigint + (h + 1) * ${HOUR},
           'localStart', to_char(to_timestamp(($2::bigint + h * ${HOUR}) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')),
         $2::bigint + (h + 1) * ${HOUR}, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb
       FROM devices d, generate_series($3::bigint, $3::bigint + 23) h`,
      [template, FROM, day * 24, ...summary],
    );
}

export async function signIn(fleet: RunningFleet): Promise<string> {
  const res = await fetch(`${fleet.apiUrl}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'admin', password: fleet.firstAdminPassword }),
  });
  if (!res.ok) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** `n` requests one after another (after two to warm up): p50 and p99 in ms. A non-200 answer stops the bench. */
export async function timeRequests(apiUrl: string, token: string, path: string, n: number): Promise<{ p50: number; p99: number }> {
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
    return performance.now() - t0;
  };
  if (n > 1) for (let i = 0; i < 2; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await once());
  times.sort((a, b) => a - b);
  const pct = (p: number) => quantile(times, p);
  return { p50: pct(0.5), p99: pct(0.99) };
}
