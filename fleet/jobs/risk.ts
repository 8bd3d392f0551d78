import { clearAlarms, raiseAlarm } from '../alarms.ts';
import type { FleetConfig } from '../config.ts';
import type { Queryable } from '../db/fleetDb.ts';
import { atRisk as isAtRisk, DEFAULT_TICKET_RULE, overThreshold, type Risk, riskWords, scoreDay, type TicketRule, ticketAtOnce } from '../maintenance/risk.ts';
import { openTicket } from '../tickets.ts';
import { deviceDays, keepDays } from './riskDays.ts';

const DAY = 86_400_000;
/** the window the scorer reads: its reference days, the recent ones and a margin */
const WINDOW_DAYS = 22;
export const RISK_CODE = 'maintenance.risk';

export interface RiskRound {
  readonly day: number;
  readonly scored: number;
  readonly atRisk: number;
  readonly ticketsOpened: number;
  /** the days whose records were aggregated again (new, or with records that arrived late) */
  readonly aggregated: number;
}

/**
 * The risk round (one worker at a time, hourly): scores yesterday (the last whole day) for every
 * device with signals, from the window's days as `keepDays` keeps them aggregated, keeps the scores in `device_risk`, and for a device over the ticket rule's
 * threshold on `rule.days` days running raises `maintenance.risk` (once, with the words of what
 * drove it) and opens a ticket for it unless one is open; the alarm clears when the score is back under.
 */
export async function scoreRisk(tx: Queryable, sla: FleetConfig['tickets']['sla'], now: number, rule: TicketRule = DEFAULT_TICKET_RULE): Promise<RiskRound> {
  const day = Math.floor(now / DAY) * DAY - DAY;
  const aggregated = await keepDays(tx, day - WINDOW_DAYS * DAY, day + DAY, now);
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
  return { day, scored: risks.length, atRisk, ticketsOpened, aggregated: aggregated.length };
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
