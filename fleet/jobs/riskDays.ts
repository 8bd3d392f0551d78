import type { Queryable } from '../db/fleetDb.ts';
import { type DeviceDay, MIN_FIT_HOURS, serviceDueAfter } from '../maintenance/risk.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/**
 * how far before the last look a record's arrival is looked at again: an ingest transaction stamps
 * its rows when it starts and they become visible when it commits, and a worker's clock may be a
 * little behind the one that ran the last round
 */
const ARRIVAL_SLACK = 10 * 60_000;
/** days kept in `device_days` before the window a round reads (a console or a report may look back) */
const KEPT_BEFORE = 38;

/**
 * The days the risk round reads, kept in `device_days`: a closed day's aggregate does not change
 * unless records for it arrive late (a gateway back from an outage, gap repair), so each day is
 * aggregated once, and again only when the ingest stored a record for it since the last round looked.
 * Re-aggregating the whole 22-day window every hour cost PostgreSQL 10 s of CPU at 1,400 devices and
 * grew faster than the fleet (its sorts left memory, and JIT compiled the statement each time).
 *
 * Keeps every day in `[from, to)` (whole UTC days, all closed) and returns the days it aggregated.
 */
export async function keepDays(tx: Queryable, from: number, to: number, now: number): Promise<number[]> {
  const kept = new Set(
    (await tx.query<{ day: number }>('SELECT day FROM device_days_kept WHERE day >= $1 AND day < $2', [from, to])).map((r) => Number(r.day)),
  );
  const due = new Set<number>();
  for (let day = from; day < to; day += DAY) if (!kept.has(day)) due.add(day);
  const [checked] = await tx.query<{ until: number }>('SELECT until FROM device_days_checked');
  if (checked && kept.size > 0) for (const day of await lateDays(tx, Number(checked.until) - ARRIVAL_SLACK, from, to)) due.add(day);
  // the aggregation's sorts and joins are compiled faster than JIT would compile them
  await tx.query('SET LOCAL jit = off');
  const days = [...due].sort((a, b) => a - b);
  for (const day of days) await aggregateDay(tx, day, now);
  await tx.query('INSERT INTO device_days_checked (until) VALUES ($1) ON CONFLICT (one) DO UPDATE SET until = excluded.until', [now]);
  await tx.query('DELETE FROM device_days WHERE day < $1', [from - KEPT_BEFORE * DAY]);
  await tx.query('DELETE FROM device_days_kept WHERE day < $1', [from - KEPT_BEFORE * DAY]);
  return days;
}

/** The days in `[from, to)` of the usage buckets and maintenance signals that arrived after `since` (BRIN indexes on their arrival). */
async function lateDays(tx: Queryable, since: number, from: number, to: number): Promise<number[]> {
  const rows = await tx.query<{ day: number }>(
    `SELECT start_at / ${DAY} * ${DAY} AS day FROM usage_buckets WHERE received_at > $1 AND start_at >= $2 AND start_at < $3
     UNION
     SELECT (at - 1) / ${DAY} * ${DAY} FROM maintenance_signals WHERE received_at > $1 AND at > $2 AND at <= $3`,
    [since, from, to],
  );
  return rows.map((r) => Number(r.day));
}

/**
 * Each device's day from the stored records: the mean and the busiest hours' (90th percentile)
 * duty cycle of its `duty_cycle` signals, the mean of its `recovery_time` signals, and from the usage
 * buckets its energy per counted unit (a day with fewer than 20 units has none) and the spread of its
 * hourly mean temperatures, and the line of its hourly duty cycles against the hour's counted units
 * (`regr_intercept`, `regr_slope`; with `MIN_FIT_HOURS` hours that have both). A signal stamped at
 * an hour's end belongs to that hour and its day (`at - 1`). The same aggregation as
 * `bench/maintenanceEval.ts`'s `dayOf`, which the evaluation uses on the simulator's records.
 */
async function aggregateDay(tx: Queryable, day: number, now: number): Promise<void> {
  await tx.query('DELETE FROM device_days WHERE day = $1', [day]);
  await tx.query(
    `WITH s AS (
       SELECT gateway_id, device_ref, (at - 1) / ${HOUR} AS hour, signal, (data->>'value')::float8 AS v
       FROM maintenance_signals WHERE at > $1 AND at <= $2 AND signal IN ('duty_cycle', 'recovery_time')
     ), sig AS (
       SELECT gateway_id, device_ref,
         avg(v) FILTER (WHERE signal = 'duty_cycle') AS duty,
         percentile_disc(0.9) WITHIN GROUP (ORDER BY v) FILTER (WHERE signal = 'duty_cycle') AS peak,
         avg(v) FILTER (WHERE signal = 'recovery_time') AS recovery
       FROM s GROUP BY 1, 2
     ), hour_duty AS (
       SELECT gateway_id, device_ref, hour, avg(v) AS duty FROM s WHERE signal = 'duty_cycle' GROUP BY 1, 2, 3
     ), b AS (
       -- each bucket's metrics walked once; units stays NULL for a bucket without a counter
       SELECT gateway_id, device_ref, start_at, x.energy, x.units, x.warmest, x.coolest
       FROM usage_buckets CROSS JOIN LATERAL (
         SELECT coalesce(sum((m->>'delta')::float8) FILTER (WHERE m->>'role' = 'energy'), 0) AS energy,
           sum((m->>'delta')::float8) FILTER (WHERE m->>'role' = 'counter') AS units,
           max((m->>'mean')::float8) FILTER (WHERE m->>'role' = 'temperature') AS warmest,
           min((m->>'mean')::float8) FILTER (WHERE m->>'role' = 'temperature') AS coolest
         FROM jsonb_each(data->'metrics') e(k, m)
       ) x
       WHERE start_at >= $1 AND start_at < $2
     ), hour_units AS (
       SELECT gateway_id, device_ref, start_at / ${HOUR} AS hour, sum(units) AS units FROM b GROUP BY 1, 2, 3
     ), fit AS (
       SELECT gateway_id, device_ref, regr_intercept(duty, units) AS at_rest, regr_slope(duty, units) AS per_unit, max(units) AS peak_units
       FROM hour_duty JOIN hour_units USING (gateway_id, device_ref, hour) WHERE units IS NOT NULL
       GROUP BY 1, 2 HAVING count(*) >= ${MIN_FIT_HOURS}
     ), use AS (
       SELECT gateway_id, device_ref, sum(energy) AS energy, sum(coalesce(units, 0)) AS units, max(warmest) AS warmest, min(coolest) AS coolest
       FROM b GROUP BY 1, 2
     )
     INSERT INTO device_days (gateway_id, device_ref, day, duty, peak, recovery, epu, warmth, at_rest, per_unit, peak_units)
     SELECT sig.gateway_id, sig.device_ref, $1, sig.duty, sig.peak, sig.recovery,
       CASE WHEN use.units >= 20 THEN use.energy / use.units END, use.warmest - use.coolest,
       fit.at_rest, fit.per_unit, CASE WHEN fit.per_unit IS NOT NULL THEN fit.peak_units END
     FROM sig LEFT JOIN use USING (gateway_id, device_ref) LEFT JOIN fit USING (gateway_id, device_ref)`,
    [day, day + DAY],
  );
  await tx.query('INSERT INTO device_days_kept (day, aggregated_at) VALUES ($1, $2) ON CONFLICT (day) DO UPDATE SET aggregated_at = excluded.aggregated_at', [
    day,
    now,
  ]);
}

/**
 * The kept days in `[from, to)` of every device not ended, with its model and the service request
 * (if any) outstanding at each day's end (`keepDays` first).
 */
export async function deviceDays(db: Queryable, from: number, to: number): Promise<DeviceDay[]> {
  const rows = await db.query<{
    g: string;
    d: string;
    day: number;
    model: string;
    duty: number | null;
    peak: number | null;
    recovery: number | null;
    epu: number | null;
    warmth: number | null;
    at_rest: number | null;
    per_unit: number | null;
    peak_units: number | null;
  }>(
    `SELECT k.gateway_id AS g, k.device_ref AS d, k.day, coalesce(dev.model, dev.kind, 'unknown') AS model,
       k.duty, k.peak, k.recovery, k.epu, k.warmth, k.at_rest, k.per_unit, k.peak_units
     FROM device_days k LEFT JOIN devices dev ON dev.gateway_id = k.gateway_id AND dev.device_ref = k.device_ref
     WHERE k.day >= $1 AND k.day < $2 AND dev.access IS DISTINCT FROM 'ended'`,
    [from, to],
  );
  const devices = new Map(rows.map((r) => [`${r.g}/${r.d}`, [r.g, r.d] as const]));
  const requests = await serviceRequests(db, [...devices.values()], from, to);
  return rows.map((r) => ({
    key: `${r.g}/${r.d}`,
    model: r.model,
    day: Number(r.day),
    duty: r.duty ?? undefined,
    dutyPeak: r.peak ?? undefined,
    recovery: r.recovery ?? undefined,
    energyPerUnit: r.epu ?? undefined,
    warmth: r.warmth ?? undefined,
    dutyAtRest: r.at_rest ?? undefined,
    dutyPerUnit: r.per_unit ?? undefined,
    peakUnits: r.peak_units ?? undefined,
    serviceDueSince: dueSince(requests.get(`${r.g}/${r.d}`), Number(r.day) + DAY),
  }));
}

/**
 * how many of a device's boolean signals before the window are read to find when the request still
 * outstanding at its start was raised (a firmware that repeats its request more often than this
 * reads as raised at the earliest of them)
 */
const REQUESTS_BEFORE = 10;

/**
 * The boolean maintenance signals (a service request raised, or answered) of the given devices: all
 * of those in `(from, to]`, and the last `REQUESTS_BEFORE` before; oldest first. One probe of the
 * partial index `maintenance_requests` per device, so a round stays bounded however long a fleet has run.
 */
async function serviceRequests(
  db: Queryable,
  devices: ReadonlyArray<readonly [string, string]>,
  from: number,
  to: number,
): Promise<Map<string, Array<{ at: number; exceeded: boolean }>>> {
  const rows = await db.query<{ g: string; d: string; at: number; exceeded: boolean | null }>(
    `SELECT k.g, k.d, m.at, m.exceeded FROM unnest($1::text[], $2::text[]) AS k(g, d)
     CROSS JOIN LATERAL (
       (SELECT at, (data->>'exceeded')::boolean AS exceeded FROM maintenance_signals
        WHERE gateway_id = k.g AND device_ref = k.d AND data->>'unit' = 'bool' AND at > $3 AND at <= $4)
       UNION ALL
       (SELECT at, (data->>'exceeded')::boolean FROM maintenance_signals
        WHERE gateway_id = k.g AND device_ref = k.d AND data->>'unit' = 'bool' AND at <= $3 ORDER BY at DESC LIMIT ${REQUESTS_BEFORE})
     ) m
     ORDER BY k.g, k.d, m.at`,
    [devices.map((x) => x[0]), devices.map((x) => x[1]), from, to],
  );
  const out = new Map<string, Array<{ at: number; exceeded: boolean }>>();
  for (const r of rows) {
    const key = `${r.g}/${r.d}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push({ at: Number(r.at), exceeded: r.exceeded === true });
  }
  return out;
}

/** When the request still outstanding at `end` was raised: the first of the exceeded signals since the last one that was not. */
function dueSince(requests: ReadonlyArray<{ at: number; exceeded: boolean }> | undefined, end: number): number | undefined {
  let since: number | undefined;
  for (const r of requests ?? []) {
    if (r.at > end) break;
    since = serviceDueAfter(since, r);
  }
  return since;
}
