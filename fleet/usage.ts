import { stringify } from 'csv-stringify/sync';
import type { UsageBucket } from '../protocol/index.ts';
import type { Queryable } from './db/fleetDb.ts';
import { monthRange } from './localTime.ts';
import { bucketSummary, type UsageGap } from './usageSummary.ts';

const HOUR = 3_600_000;
export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export interface MonthlyUsage {
  readonly gatewayId: string;
  readonly customer: string | null;
  readonly deviceRef: string;
  readonly model: string | null;
  readonly month: string;
  readonly timeZone: string;
  readonly energyKWh: number;
  /** counter metrics by name (cups, cycles), summed */
  readonly counters: Record<string, number>;
  readonly onHours: number;
  readonly starts: number;
  readonly doorOpenHours: number;
  readonly doorOpenings: number;
  /** hours with data (an hour the device was offline counts for the part it was not) / hours expected */
  readonly hoursCovered: number;
  readonly hoursExpected: number;
  readonly completeness: number;
  /** spans without data: as the gateway marked them in its buckets, and buckets that never arrived */
  readonly gaps: Array<{ from: number; to: number; reason: 'offline' | 'gateway' | 'missing' }>;
}

/**
 * Billing-grade usage of one month, per site and device, in each site's local month (its manifest's
 * time zone; UTC when unknown). Expected hours run from the month's start (or the device's first
 * bucket, if later) to the month's end (or now, or the end of its access). The database sums each
 * device's buckets (their summary columns) and returns only the buckets that add a gap (one that
 * never arrived before it, or one its gateway marked), counters summed by name, and the JSON of
 * buckets stored without a summary; one query for all the sites asked for.
 */
export async function monthlyUsage(
  db: Queryable,
  month: string,
  now: number,
  filter: { gatewayId?: string | undefined; customer?: string | undefined } = {},
): Promise<MonthlyUsage[]> {
  const sites = await db.query<{ gateway_id: string; time_zone: string | null; customer: string | null }>(
    `SELECT gateway_id, time_zone, customer FROM gateways
     WHERE ($1::text IS NULL OR gateway_id = $1) AND ($2::text IS NULL OR customer = $2) ORDER BY gateway_id`,
    [filter.gatewayId ?? null, filter.customer ?? null],
  );
  if (sites.length === 0) return [];
  const ranges = sites.map((s) => monthRange(month, s.time_zone ?? 'UTC'));
  const rows = await db.query<DeviceMonthRow>(MONTH_SQL, [sites.map((s) => s.gateway_id), ranges.map((r) => r.start), ranges.map((r) => r.end)]);
  const unsummarised = await bucketsWithoutSummary(db, rows);
  const site = new Map(sites.map((s, i) => [s.gateway_id, { ...s, range: ranges[i] as { start: number; end: number } }]));
  return rows.map((r) => {
    const s = site.get(r.gateway_id) as NonNullable<ReturnType<typeof site.get>>;
    const until = Math.min(s.range.end, Math.floor(now / HOUR) * HOUR, r.ended ?? Number.POSITIVE_INFINITY);
    return {
      ...totals(r, until, unsummarised),
      gatewayId: r.gateway_id,
      customer: s.customer,
      deviceRef: r.device_ref,
      model: r.model,
      month,
      timeZone: s.time_zone ?? 'UTC',
    };
  });
}

/** A bucket of the month that adds a gap or has no summary: [start, missing since (or null), marked gaps, its provider and seq when unsummarised]. */
type Detail = [number, number | null, UsageGap[] | null, [string, number] | null];

/** One device's month as the database sums it. */
interface DeviceMonthRow {
  gateway_id: string;
  device_ref: string;
  model: string | null;
  ended: number | null;
  /** the month's start, or the device's first bucket when it began within the month */
  from_at: number;
  last_end: number;
  energy_wh: number | null;
  on_seconds: number | null;
  starts: number | null;
  door_seconds: number | null;
  openings: number | null;
  covered_seconds: number | null;
  /** each bucket's counters, in no order */
  counters: Array<Record<string, number>> | null;
  details: Detail[] | null;
}

// Per site (a LATERAL, so each site's rows are sorted in memory): `expected` is where the device's
// data should go on from (the month's start, then the end of the bucket before), so a bucket that
// starts later has a missing span before it. The month's first bucket has one only if the device had
// buckets before the month (`began_before`, one index probe per device); otherwise its expected hours
// start at that bucket. Counters come back as the buckets' own (few devices count, and few things).
const MONTH_SQL = `
  WITH t AS (
    SELECT s.gateway_id, m.*, EXISTS (
      SELECT 1 FROM usage_buckets p WHERE p.gateway_id = s.gateway_id AND p.device_ref = m.device_ref AND p.start_at < s.month_start
    ) AS began_before
    FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS s(gateway_id, month_start, month_end)
    CROSS JOIN LATERAL (
      SELECT device_ref, min(month_start) AS month_start, min(start_at) AS first_start, max(end_at) AS last_end,
        sum(energy_wh) AS energy_wh, sum(on_seconds) AS on_seconds, sum(starts) AS starts, sum(door_seconds) AS door_seconds,
        sum(openings) AS openings, sum(covered_seconds) AS covered_seconds,
        jsonb_agg(counters) FILTER (WHERE counters IS NOT NULL) AS counters,
        jsonb_agg(jsonb_build_array(start_at, CASE WHEN start_at > expected THEN expected END, gaps, unsummarised) ORDER BY start_at)
          FILTER (WHERE start_at > expected OR gaps IS NOT NULL OR unsummarised IS NOT NULL) AS details
      FROM (
        SELECT b.device_ref, b.start_at, b.end_at, b.energy_wh, b.on_seconds, b.starts, b.door_seconds, b.openings, b.covered_seconds,
          b.counters, b.gaps, s.month_start,
          CASE WHEN b.covered_seconds IS NULL THEN jsonb_build_array(b.provider, b.bucket_seq) END AS unsummarised,
          greatest(s.month_start, lag(b.end_at) OVER (PARTITION BY b.device_ref ORDER BY b.start_at)) AS expected
        FROM usage_buckets b WHERE b.gateway_id = s.gateway_id AND b.start_at >= s.month_start AND b.start_at < s.month_end
      ) rows
      GROUP BY device_ref
    ) m
  )
  SELECT t.gateway_id, t.device_ref, t.last_end, t.energy_wh, t.on_seconds, t.starts, t.door_seconds, t.openings, t.covered_seconds,
    t.counters, CASE WHEN t.began_before THEN t.month_start ELSE t.first_start END AS from_at,
    -- a first bucket after the month's start is a gap only for a device that began before it
    CASE WHEN t.began_before OR t.details IS NULL OR (t.details->0->>0)::bigint > t.first_start THEN t.details
      ELSE jsonb_set(t.details, '{0,1}', 'null') END AS details,
    d.model, d.access_ended_at AS ended
  FROM t LEFT JOIN devices d USING (gateway_id, device_ref)
  ORDER BY t.gateway_id, t.device_ref`;

/** The JSON of the month's buckets stored without a summary (before migration 9, or by an older worker), by gateway, device, provider and seq. */
async function bucketsWithoutSummary(db: Queryable, rows: readonly DeviceMonthRow[]): Promise<Map<string, UsageBucket>> {
  const keys: Array<[string, string, string, number]> = [];
  for (const r of rows) for (const [, , , k] of r.details ?? []) if (k) keys.push([r.gateway_id, r.device_ref, k[0], k[1]]);
  if (keys.length === 0) return new Map();
  const found = await db.query<{ gateway_id: string; device_ref: string; provider: string; bucket_seq: number; data: UsageBucket }>(
    `SELECT b.gateway_id, b.device_ref, b.provider, b.bucket_seq, b.data
     FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS k(g, d, p, s)
     JOIN usage_buckets b ON b.gateway_id = k.g AND b.provider = k.p AND b.device_ref = k.d AND b.bucket_seq = k.s`,
    [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2]), keys.map((k) => k[3])],
  );
  return new Map(found.map((b) => [bucketKey(b.gateway_id, b.device_ref, b.provider, b.bucket_seq), b.data]));
}

const bucketKey = (g: string, d: string, p: string, s: number) => `${g}\u0000${d}\u0000${p}\u0000${s}`;

type Totals = Omit<MonthlyUsage, 'gatewayId' | 'customer' | 'deviceRef' | 'model' | 'month' | 'timeZone'>;

function totals(r: DeviceMonthRow, until: number, unsummarised: ReadonlyMap<string, UsageBucket>): Totals {
  let wh = r.energy_wh ?? 0;
  let onS = r.on_seconds ?? 0;
  let starts = r.starts ?? 0;
  let doorS = r.door_seconds ?? 0;
  let openings = r.openings ?? 0;
  let coveredS = r.covered_seconds ?? 0;
  const counters = new Map<string, number>();
  for (const c of r.counters ?? []) for (const [name, n] of Object.entries(c)) counters.set(name, (counters.get(name) ?? 0) + n);
  const gaps: Array<{ from: number; to: number; reason: 'offline' | 'gateway' | 'missing' }> = [];
  for (const [start, missingSince, marked, key] of r.details ?? []) {
    if (missingSince !== null) gaps.push({ from: missingSince, to: start, reason: 'missing' });
    const data = key ? unsummarised.get(bucketKey(r.gateway_id, r.device_ref, key[0], key[1])) : undefined;
    const bucket = data ? bucketSummary(data) : undefined;
    gaps.push(...(bucket?.gaps ?? marked ?? []));
    if (!bucket) continue;
    wh += bucket.energyWh;
    onS += bucket.onSeconds;
    starts += bucket.starts;
    doorS += bucket.doorSeconds;
    openings += bucket.openings;
    coveredS += bucket.coveredSeconds;
    for (const [name, n] of Object.entries(bucket.counters ?? {})) counters.set(name, (counters.get(name) ?? 0) + n);
  }
  const expectedEnd = Math.max(r.from_at, r.last_end);
  if (until > expectedEnd) gaps.push({ from: expectedEnd, to: until, reason: 'missing' });
  const hoursExpected = Math.max(0, (until - r.from_at) / HOUR);
  const hoursCovered = coveredS / 3600;
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    energyKWh: round(wh / 1000, 6),
    // by name, whichever order the buckets or the database gave them in
    counters: Object.fromEntries([...counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    onHours: round(onS / 3600),
    starts,
    doorOpenHours: round(doorS / 3600),
    doorOpenings: openings,
    hoursCovered: round(hoursCovered),
    hoursExpected: round(hoursExpected),
    completeness: hoursExpected === 0 ? 1 : round(Math.min(1, hoursCovered / hoursExpected), 4),
    gaps,
  };
}

const CSV_COLUMNS = [
  'month',
  'site',
  'customer',
  'device',
  'model',
  'time_zone',
  'energy_kwh',
  'counters',
  'on_hours',
  'starts',
  'door_open_hours',
  'door_openings',
  'hours_covered',
  'hours_expected',
  'completeness',
  'gaps',
];

/** The month as CSV (a header row even when empty), one row per site and device (counters as `name=value;...` by name, gaps as ISO spans). */
export function usageCsv(rows: readonly MonthlyUsage[]): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  return stringify(
    rows.map((r) => ({
      month: r.month,
      site: r.gatewayId,
      customer: r.customer ?? '',
      device: r.deviceRef,
      model: r.model ?? '',
      time_zone: r.timeZone,
      energy_kwh: r.energyKWh,
      counters: Object.entries(r.counters)
        .map(([k, v]) => `${k}=${v}`)
        .join(';'),
      on_hours: r.onHours,
      starts: r.starts,
      door_open_hours: r.doorOpenHours,
      door_openings: r.doorOpenings,
      hours_covered: r.hoursCovered,
      hours_expected: r.hoursExpected,
      completeness: r.completeness,
      gaps: r.gaps.map((g) => `${iso(g.from)}/${iso(g.to)} ${g.reason}`).join(';'),
    })),
    { header: true, columns: CSV_COLUMNS },
  );
}
