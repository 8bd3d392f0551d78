import { clearAlarms, raiseAlarm } from '../alarms.ts';
import type { FleetConfig } from '../config.ts';
import type { Queryable } from '../db/fleetDb.ts';
import {
  atRisk as isAtRisk,
  DEFAULT_TICKET_RULE,
  type DeviceDay,
  MIN_FIT_HOURS,
  overThreshold,
  type Risk,
  riskWords,
  scoreDay,
  serviceDueAfter,
  type TicketRule,
  ticketAtOnce,
} from '../maintenance/risk.ts';
import { openTicket } from '../tickets.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** the window the scorer reads: its reference days, the recent ones and a margin */
const WINDOW_DAYS = 22;
export const RISK_CODE = 'maintenance.risk';

/**
 * Each device's day from the stored records: the mean and the busiest hours' (90th percentile)
 * duty cycle of its `duty_cycle` signals, the mean of its `recovery_time` signals, and from the usage
 * buckets its energy per counted unit (a day with fewer than 20 units has none) and the spread of its
 * hourly mean temperatures, and the line of its hourly duty cycles against the hour's counted units
 * (`regr_intercept`, `regr_slope`; with `MIN_FIT_HOURS` hours that have both). A signal stamped at
 * an hour's end belongs to that hour and its day (`at - 1`). The same aggregation as
 * `bench/maintenanceEval.ts`'s `dayOf`, which the evaluation uses on the simulator's records.
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
    `WITH s AS (
       SELECT gateway_id, device_ref, (at - 1) / ${HOUR} AS hour, signal, (data->>'value')::float8 AS v
       FROM maintenance_signals WHERE at > $1 AND at <= $2 AND signal IN ('duty_cycle', 'recovery_time')
     ), sig AS (
       SELECT gateway_id, device_ref, hour * ${HOUR} / ${DAY} * ${DAY} AS day,
         avg(v) FILTER (WHERE signal = 'duty_cycle') AS duty,
         percentile_disc(0.9) WITHIN GROUP (ORDER BY v) FILTER (WHERE signal = 'duty_cycle') AS peak,
         avg(v) FILTER (WHERE signal = 'recovery_time') AS recovery
       FROM s GROUP BY 1, 2, 3
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
       SELECT gateway_id, device_ref, hour * ${HOUR} / ${DAY} * ${DAY} AS day,
         regr_intercept(duty, units) AS at_rest, regr_slope(duty, units) AS per_unit, max(units) AS peak_units
       FROM hour_duty JOIN hour_units USING (gateway_id, device_ref, hour) WHERE units IS NOT NULL
       GROUP BY 1, 2, 3 HAVING count(*) >= ${MIN_FIT_HOURS}
     ), use AS (
       SELECT gateway_id, device_ref, start_at / ${DAY} * ${DAY} AS day,
         sum(energy) AS energy, sum(coalesce(units, 0)) AS units, max(warmest) AS warmest, min(coolest) AS coolest
       FROM b GROUP BY 1, 2, 3
     )
     SELECT sig.gateway_id AS g, sig.device_ref AS d, sig.day, coalesce(dev.model, dev.kind, 'unknown') AS model, sig.duty, sig.peak, sig.recovery,
       CASE WHEN use.units >= 20 THEN use.energy / use.units END AS epu, use.warmest - use.coolest AS warmth,
       fit.at_rest, fit.per_unit, CASE WHEN fit.per_unit IS NOT NULL THEN fit.peak_units END AS peak_units
     FROM sig LEFT JOIN use USING (gateway_id, device_ref, day) LEFT JOIN fit USING (gateway_id, device_ref, day)
     LEFT JOIN devices dev ON dev.gateway_id = sig.gateway_id AND dev.device_ref = sig.device_ref
     WHERE dev.access IS DISTINCT FROM 'ended'`,
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

export interface RiskRound {
  readonly day: number;
  readonly scored: number;
  readonly atRisk: number;
  readonly ticketsOpened: number;
}

/**
 * The risk round (one worker at a time, hourly): scores yesterday (the last whole day) for every
 * device with signals, keeps the scores in `device_risk`, and for a device over the ticket rule's
 * threshold on `rule.days` days running raises `maintenance.risk` (once, with the words of what
 * drove it) and opens a ticket for it unless one is open; the alarm clears when the score is back under.
 */
export async function scoreRisk(tx: Queryable, sla: FleetConfig['tickets']['sla'], now: number, rule: TicketRule = DEFAULT_TICKET_RULE): Promise<RiskRound> {
  const day = Math.floor(now / DAY) * DAY - DAY;
  const days = await deviceDays(tx, day - WINDOW_DAYS * DAY, day + DAY);
  const risks = scoreDay(days, day);
  const earlier = await previousOver(tx, day, rule);
  const scored = risks.map((r) => ({ r, at: split(r.key), words: riskWords(r), over: overThreshold(r, rule), atOnce: ticketAtOnce(r, rule) }));
  await saveRisks(tx, scored, day, now);
  // the devices now under the rule: their alarm, if any, is over
  await clearAlarms(
    tx,
    scored.filter((x) => !x.over && !x.atOnce).map((x) => ({ gatewayId: x.at[0], deviceRef: x.at[1], code: RISK_CODE, at: now })),
  );
  let atRisk = 0;
  let ticketsOpened = 0;
  for (const x of scored) {
    if (!isAtRisk(x.r, earlier.get(x.r.key) ?? 0, rule)) continue;
    atRisk++;
    ticketsOpened += (await raiseOnce(tx, x.at[0], x.at[1], x.r, x.words, sla, now)) ? 1 : 0;
  }
  return { day, scored: risks.length, atRisk, ticketsOpened };
}

/** The day's scores, one statement for every device (a provider's 20,000 devices are scored each hour). */
async function saveRisks(
  tx: Queryable,
  scored: ReadonlyArray<{ r: Risk; at: readonly [string, string]; words: string }>,
  day: number,
  now: number,
): Promise<void> {
  if (scored.length === 0) return;
  const col = <T>(f: (x: (typeof scored)[number]) => T) => scored.map(f);
  await tx.query(
    `INSERT INTO device_risk (gateway_id, device_ref, day, model, score, driver, trend, peers_median, peers, eta_days, words, z, load, load_units, fail_chance, chance_days, computed_at)
     SELECT g, d, $16, m, s, dr, t, pm, p, e, w, z, l, lu, fc, cd, $17
     FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::float8[], $7::float8[], $8::int[], $9::float8[], $10::text[], $11::jsonb[],
       $12::float8[], $13::float8[], $14::float8[], $15::int[])
       AS u(g, d, m, s, dr, t, pm, p, e, w, z, l, lu, fc, cd)
     ON CONFLICT (gateway_id, device_ref, day) DO UPDATE SET model = excluded.model, score = excluded.score, driver = excluded.driver, trend = excluded.trend,
       peers_median = excluded.peers_median, peers = excluded.peers, eta_days = excluded.eta_days, words = excluded.words, z = excluded.z,
       load = excluded.load, load_units = excluded.load_units, fail_chance = excluded.fail_chance, chance_days = excluded.chance_days,
       computed_at = excluded.computed_at`,
    [
      col((x) => x.at[0]),
      col((x) => x.at[1]),
      col((x) => x.r.model),
      col((x) => x.r.score),
      col((x) => x.r.driver ?? null),
      col((x) => x.r.trend ?? null),
      col((x) => x.r.peersMedian ?? null),
      col((x) => x.r.peers),
      col((x) => x.r.etaDays ?? null),
      col((x) => x.words),
      col((x) => JSON.stringify(x.r.z)),
      col((x) => x.r.load ?? null),
      col((x) => x.r.loadUnits ?? null),
      col((x) => x.r.failChance ?? null),
      col((x) => x.r.chanceDays ?? null),
      day,
      now,
    ],
  );
}

/** How many of the days just before `day` each device was over the threshold on, running. */
async function previousOver(tx: Queryable, day: number, rule: TicketRule): Promise<Map<string, number>> {
  const rows = await tx.query<{
    g: string;
    d: string;
    day: number;
    score: number;
    eta: number | null;
    z: Risk['z'];
    load: number | null;
    chance: number | null;
  }>(
    'SELECT gateway_id AS g, device_ref AS d, day, score, eta_days AS eta, z, load, fail_chance AS chance FROM device_risk WHERE day >= $1 AND day < $2 ORDER BY day DESC',
    [day - (rule.days - 1) * DAY, day],
  );
  const runs = new Map<string, number>();
  const broken = new Set<string>();
  for (const r of rows) {
    const key = `${r.g}/${r.d}`;
    if (broken.has(key)) continue;
    if (overThreshold({ score: r.score, etaDays: r.eta ?? undefined, z: r.z, load: r.load ?? undefined, failChance: r.chance ?? undefined }, rule))
      runs.set(key, (runs.get(key) ?? 0) + 1);
    else broken.add(key);
  }
  return runs;
}

/** The alarm and the ticket of a device at risk: each only when there is none yet. True when a ticket was opened. */
async function raiseOnce(tx: Queryable, gatewayId: string, deviceRef: string, r: Risk, words: string, sla: FleetConfig['tickets']['sla'], now: number) {
  const [active] = await tx.query<{ id: number }>("SELECT id FROM alarms WHERE gateway_id = $1 AND device_ref = $2 AND code = $3 AND state = 'active'", [
    gatewayId,
    deviceRef,
    RISK_CODE,
  ]);
  const alarm =
    active ??
    (await raiseAlarm(tx, { gatewayId, deviceRef, code: RISK_CODE, severity: 'warning', message: `likely to fail within a week: ${words}`, at: now }));
  const [open] = await tx.query("SELECT 1 FROM tickets WHERE gateway_id = $1 AND device_ref = $2 AND alarm_code = $3 AND state <> 'closed'", [
    gatewayId,
    deviceRef,
    RISK_CODE,
  ]);
  if (open) return false;
  await openTicket(
    tx,
    {
      gatewayId,
      deviceRef,
      title: 'Likely to fail within a week: inspect',
      priority: 'high',
      alarmCode: RISK_CODE,
      alarmId: alarm.id,
      notes: `${words} (score ${r.score})`,
    },
    sla,
    'fleet',
    now,
  );
  return true;
}

const split = (key: string) => {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)] as const;
};

/**
 * The latest scored day's devices, most at risk first, with their words and the open ticket (if any)
 * the risk round or a dispatcher opened for it; `model` keeps one device model's.
 */
export async function riskRanking(db: Queryable, limit = 50, model?: string) {
  return db.query<{
    gatewayId: string;
    deviceRef: string;
    day: number;
    model: string;
    score: number;
    driver: string | null;
    etaDays: number | null;
    load: number | null;
    loadUnits: number | null;
    failChance: number | null;
    chanceDays: number | null;
    words: string;
    ticketId: number | null;
    ticketState: string | null;
  }>(
    `SELECT r.gateway_id AS "gatewayId", r.device_ref AS "deviceRef", r.day, r.model, r.score, r.driver, r.eta_days AS "etaDays", r.load, r.load_units AS "loadUnits",
       r.fail_chance AS "failChance", r.chance_days AS "chanceDays", r.words,
       t.id AS "ticketId", t.state AS "ticketState"
     FROM device_risk r
     LEFT JOIN LATERAL (
       SELECT id, state FROM tickets WHERE gateway_id = r.gateway_id AND device_ref = r.device_ref AND state <> 'closed' ORDER BY id DESC LIMIT 1
     ) t ON true
     WHERE r.day = (SELECT max(day) FROM device_risk) AND ($2::text IS NULL OR r.model = $2)
     ORDER BY r.score DESC, r.gateway_id, r.device_ref LIMIT $1`,
    [limit, model ?? null],
  );
}
