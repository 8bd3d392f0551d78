import { stringify } from 'csv-stringify/sync';
import type { Metric, UsageBucket } from '../protocol/index.ts';
import type { Queryable } from './db/fleetDb.ts';
import { monthRange } from './localTime.ts';

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
 * bucket, if later) to the month's end (or now, or the end of its access).
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
  const out: MonthlyUsage[] = [];
  for (const s of sites) {
    const timeZone = s.time_zone ?? 'UTC';
    const { start, end } = monthRange(month, timeZone);
    const rows = await db.query<{ device_ref: string; start_at: number; data: UsageBucket; first: number; model: string | null; ended: number | null }>(
      // each device's first bucket once (a lateral subquery per bucket read every bucket of the device again for each one: quadratic in a month)
      `WITH f AS (SELECT device_ref, min(start_at) AS first FROM usage_buckets WHERE gateway_id = $1 GROUP BY device_ref)
       SELECT b.device_ref, b.start_at, b.data, f.first, d.model, d.access_ended_at AS ended
       FROM usage_buckets b
       JOIN f ON f.device_ref = b.device_ref
       LEFT JOIN devices d ON d.gateway_id = b.gateway_id AND d.device_ref = b.device_ref
       WHERE b.gateway_id = $1 AND b.start_at >= $2 AND b.start_at < $3 ORDER BY b.device_ref, b.start_at`,
      [s.gateway_id, start, end],
    );
    const byDevice = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byDevice.get(r.device_ref);
      if (list) list.push(r);
      else byDevice.set(r.device_ref, [r]);
    }
    for (const [deviceRef, buckets] of byDevice) {
      const first = buckets[0] as (typeof buckets)[number];
      const from = Math.max(start, first.first);
      const until = Math.min(end, Math.floor(now / HOUR) * HOUR, first.ended ?? Number.POSITIVE_INFINITY);
      out.push({ ...summarise(buckets, from, until), gatewayId: s.gateway_id, customer: s.customer, deviceRef, model: first.model, month, timeZone });
    }
  }
  return out;
}

type Totals = Omit<MonthlyUsage, 'gatewayId' | 'customer' | 'deviceRef' | 'model' | 'month' | 'timeZone'>;

function summarise(buckets: ReadonlyArray<{ start_at: number; data: UsageBucket }>, from: number, until: number): Totals {
  let wh = 0;
  let onS = 0;
  let starts = 0;
  let doorS = 0;
  let openings = 0;
  let coveredS = 0;
  const counters: Record<string, number> = {};
  const gaps: Array<{ from: number; to: number; reason: 'offline' | 'gateway' | 'missing' }> = [];
  let expectedStart = from;
  for (const { start_at, data } of buckets) {
    if (start_at > expectedStart) gaps.push({ from: expectedStart, to: start_at, reason: 'missing' });
    expectedStart = Math.max(expectedStart, data.end);
    coveredS += Math.max(0, 3600 - data.offlineSeconds);
    gaps.push(...data.gaps);
    for (const [name, m] of Object.entries(data.metrics) as Array<[string, Metric]>) {
      if (m.role === 'energy') wh += m.delta;
      else if (m.role === 'counter') counters[name] = (counters[name] ?? 0) + m.delta;
      else if (m.role === 'on') {
        onS += m.seconds;
        starts += m.starts;
      } else if (m.role === 'door') {
        doorS += m.openSeconds;
        openings += m.openings;
      }
    }
  }
  if (until > expectedStart) gaps.push({ from: expectedStart, to: until, reason: 'missing' });
  const hoursExpected = Math.max(0, (until - from) / HOUR);
  const hoursCovered = coveredS / 3600;
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    energyKWh: round(wh / 1000, 6),
    counters,
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

/** The month as CSV (a header row even when empty), one row per site and device (counters as `name=value;...`, gaps as ISO spans). */
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
