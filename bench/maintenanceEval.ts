import type { HourOut } from '../firmware-sim/fleetSim/model.ts';
import { population, type SimulatedDevice } from '../firmware-sim/fleetSim/population.ts';
import {
  atRisk as isAtRisk,
  DEFAULT_TICKET_RULE,
  type DeviceDay,
  leastSquares,
  MIN_FIT_HOURS,
  median,
  overThreshold,
  scoreDay,
  serviceDueAfter,
  type TicketRule,
} from '../fleet/maintenance/risk.ts';
import { round } from './figures.ts';

const DAY = 86_400_000;
/** how far ahead "fails within" looks */
export const HORIZON_DAYS = 7;
/**
 * the first day scored: a device's reference is its days 8-20 before, of which the scorer needs 4.
 * Failures are counted from a week later, so that each has a week of scored days before it; a device
 * that failed before that is left out of every figure
 */
const FIRST_SCORED_DAY = 14;
const FIRST_LABELLED_DAY = FIRST_SCORED_DAY + HORIZON_DAYS;

export interface EvalOptions {
  readonly seeds: readonly number[];
  readonly sites: number;
  readonly days: number;
  readonly start?: number;
  readonly rule?: TicketRule;
}

/** One device's day as the fleet aggregates it from the gateway's records (`fleet/jobs/risk.ts` does the same in SQL). */
export function dayOf(key: string, model: string, day: number, hours: readonly HourOut[]): DeviceDay {
  const duty: number[] = [];
  const recovery: number[] = [];
  let energy = 0;
  let units = 0;
  let warmest = Number.NEGATIVE_INFINITY;
  let coolest = Number.POSITIVE_INFINITY;
  /** the hours with a duty cycle and a counter: [units, duty] */
  const hourly: Array<[number, number]> = [];
  for (const h of hours) {
    const hourDuty: number[] = [];
    for (const s of h.signals) {
      if (s.signal === 'duty_cycle') hourDuty.push(s.value);
      else if (s.signal === 'recovery_time') recovery.push(s.value);
    }
    duty.push(...hourDuty);
    let hourUnits: number | undefined;
    for (const m of Object.values(h.metrics)) {
      if (m.role === 'energy') energy += m.delta;
      else if (m.role === 'counter') {
        units += m.delta;
        hourUnits = (hourUnits ?? 0) + m.delta;
      } else if (m.role === 'temperature' && m.mean !== null) {
        warmest = Math.max(warmest, m.mean);
        coolest = Math.min(coolest, m.mean);
      }
    }
    const d = mean(hourDuty);
    if (hourUnits !== undefined && d !== undefined) hourly.push([hourUnits, d]);
  }
  const fit = hourly.length >= MIN_FIT_HOURS ? leastSquares(hourly) : undefined;
  const sorted = [...duty].sort((a, b) => a - b);
  const dutyPeak = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))] : undefined;
  return {
    key,
    model,
    day,
    duty: mean(duty),
    recovery: mean(recovery),
    energyPerUnit: units >= 20 ? energy / units : undefined,
    dutyPeak,
    warmth: warmest >= coolest ? warmest - coolest : undefined,
    dutyAtRest: fit?.intercept,
    dutyPerUnit: fit?.slope,
    peakUnits: fit ? Math.max(...hourly.map((p) => p[0])) : undefined,
  };
}

/**
 * When the service request still outstanding after `hours` was raised: a boolean signal (such as
 * `descale_needed`) that is exceeded raises one, one that is not answers it (`fleet/jobs/risk.ts` reads the same from its table).
 */
export function serviceDue(hours: readonly HourOut[], since: number | undefined): number | undefined {
  for (const h of hours) for (const s of h.signals) if (s.unit === 'bool') since = serviceDueAfter(since, s);
  return since;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface EvalResult {
  readonly seeds: readonly number[];
  readonly devices: number;
  readonly failing: number;
  /** device-days: "at risk" against "fails within 7 days" */
  readonly confusion: Confusion;
  readonly precision: number;
  readonly recall: number;
  /** days from a failing device's first ticket to its failure */
  readonly leadDays: number[];
  readonly medianLeadDays: number | null;
  /** failing devices whose failure came without a ticket in the 30 days before it */
  readonly missed: number;
  readonly falseTicketsPer1000HealthyPerMonth: number;
  /** per kind of degradation (and `healthy`): devices, ticketed at all, failures with a ticket in their last week (`caught`), tickets not followed by the failure within the week (`wrong`) */
  readonly byKind: Record<string, { devices: number; ticketed: number; failed: number; caught: number; wrong: number; medianLeadDays: number | null }>;
  /** tickets: followed by the device's failure within 7 days (tp) or not (fp); failing devices with no such ticket (fn); healthy devices never ticketed (tn) */
  readonly tickets: Confusion & { precision: number; recall: number };
  readonly drivers: Record<string, number>;
}

/** One seed's simulated fleet, day by day, as the fleet would aggregate it, and what its physics did. */
export interface SimulatedFleet {
  readonly seed: number;
  readonly start: number;
  readonly days: number;
  readonly fleet: ReadonlyArray<Pick<SimulatedDevice, 'key' | 'degradation'>>;
  /** each day's device days (a failed device has none after its failure's day) */
  readonly byDay: readonly DeviceDay[][];
  /** the day (index) each failed device failed on */
  readonly failedOn: ReadonlyMap<string, number>;
}

/** Simulates one seed's fleet for `days` days and a week past them (so every scored day's label is known). */
export function simulate(seed: number, sites: number, days: number, start = Date.UTC(2026, 4, 1)): SimulatedFleet {
  const fleet = population({ seed, start, sites });
  const failedOn = new Map<string, number>();
  const byDay: DeviceDay[][] = [];
  const dueSince = new Map<string, number | undefined>();
  for (let d = 0; d < days + HORIZON_DAYS; d++) {
    const today: DeviceDay[] = [];
    for (const dev of fleet) {
      if (failedOn.has(dev.key)) continue;
      const hours = Array.from({ length: 24 }, (_, h) => dev.model.hour(start + d * DAY + h * 3_600_000));
      if (hours.some((h) => h.failed)) failedOn.set(dev.key, d);
      dueSince.set(dev.key, serviceDue(hours, dueSince.get(dev.key)));
      today.push({ ...dayOf(dev.key, dev.model.model, start + d * DAY, hours), serviceDueSince: dueSince.get(dev.key) });
    }
    byDay.push(today);
  }
  return { seed, start, days, fleet, byDay, failedOn };
}

/**
 * Runs the simulated fleet day by day, scores every device each day as the fleet would, opens a
 * ticket when the ticket rule says so (one per device until its score has been under the threshold
 * for three days), and compares with what the physics did. Days after a device failed are left out
 * (it is broken, or being repaired).
 */
export function evaluate(o: EvalOptions): EvalResult {
  return judge(
    o.seeds.map((seed) => simulate(seed, o.sites, o.days, o.start)),
    o.rule,
  );
}

/** The figures of `evaluate` for fleets already simulated (a tuning run simulates once and tries many rules). */
export function judge(sims: readonly SimulatedFleet[], rule: TicketRule = DEFAULT_TICKET_RULE): EvalResult {
  const confusion: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const leadDays: number[] = [];
  const kinds: Record<string, { devices: number; ticketed: number; failed: number; caught: number; wrong: number; lead: number[] }> = {};
  const kindOf = (d: Pick<SimulatedDevice, 'degradation'>) => d.degradation?.kind ?? 'healthy';
  const kindStats = (kind: string) => (kinds[kind] ??= { devices: 0, ticketed: 0, failed: 0, caught: 0, wrong: 0, lead: [] });
  const drivers: Record<string, number> = {};
  let devices = 0;
  let failing = 0;
  let missed = 0;
  let failingScored = 0;
  let falseTickets = 0;
  const tickets: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  let healthyDeviceDays = 0;
  for (const { start, days: scoredDays, fleet, byDay: days, failedOn } of sims) {
    const early = (key: string) => (failedOn.get(key) ?? FIRST_LABELLED_DAY) < FIRST_LABELLED_DAY;
    devices += fleet.filter((dev) => !early(dev.key)).length;
    failing += [...failedOn.keys()].filter((key) => !early(key)).length;
    const kindByKey = new Map(fleet.map((d) => [d.key, kindOf(d)]));
    const over = new Map<string, number>();
    const ticketOpen = new Map<string, number>();
    const under = new Map<string, number>();
    const firstTicket = new Map<string, number>();
    /** the last ticket opened before the failure */
    const ticketBefore = new Map<string, number>();
    for (let d = FIRST_SCORED_DAY; d < scoredDays; d++) {
      const window = days.slice(Math.max(0, d - 21), d + 1).flat();
      for (const r of scoreDay(window, start + d * DAY)) {
        const failDay = failedOn.get(r.key);
        if ((failDay !== undefined && d >= failDay) || early(r.key)) continue;
        const before = over.get(r.key) ?? 0;
        over.set(r.key, overThreshold(r, rule) ? before + 1 : 0);
        const atRisk = isAtRisk(r, before, rule);
        const fails = failDay !== undefined && failDay - d <= HORIZON_DAYS;
        if (atRisk && fails) confusion.tp++;
        else if (atRisk) confusion.fp++;
        else if (fails) confusion.fn++;
        else confusion.tn++;
        if (failDay === undefined) healthyDeviceDays++;
        if (atRisk && !ticketOpen.has(r.key)) {
          ticketOpen.set(r.key, d);
          ticketBefore.set(r.key, d);
          if (!firstTicket.has(r.key)) firstTicket.set(r.key, d);
          const why = (r.failChance ?? 0) >= rule.chance ? 'failChance' : (r.load ?? 0) >= rule.load ? 'load' : r.driver;
          if (why) drivers[why] = (drivers[why] ?? 0) + 1;
          if (failDay === undefined || failDay - d > 30) falseTickets++;
          if (failDay !== undefined && failDay - d <= HORIZON_DAYS) tickets.tp++;
          else {
            tickets.fp++;
            kindStats(kindByKey.get(r.key) ?? 'healthy').wrong++;
          }
        }
        under.set(r.key, !overThreshold(r, rule) ? (under.get(r.key) ?? 0) + 1 : 0);
        if ((under.get(r.key) ?? 0) >= 3) ticketOpen.delete(r.key);
      }
    }
    for (const dev of fleet) {
      if (early(dev.key)) continue;
      const k = kindStats(kindOf(dev));
      k.devices++;
      const failDay = failedOn.get(dev.key);
      const t = firstTicket.get(dev.key);
      if (t !== undefined) k.ticketed++;
      if (failDay === undefined && t === undefined) tickets.tn++;
      if (failDay === undefined || failDay >= scoredDays) continue;
      failingScored++;
      const last = ticketBefore.get(dev.key);
      k.failed++;
      if (last === undefined || failDay - last > HORIZON_DAYS) tickets.fn++;
      else k.caught++;
      if (t !== undefined && t < failDay && failDay - t <= 30) {
        leadDays.push(failDay - t);
        k.lead.push(failDay - t);
      } else missed++;
    }
  }
  const precision = confusion.tp / Math.max(1, confusion.tp + confusion.fp);
  const recall = confusion.tp / Math.max(1, confusion.tp + confusion.fn);
  return {
    seeds: sims.map((s) => s.seed),
    devices,
    failing,
    confusion,
    precision: round(precision, 3),
    recall: round(recall, 3),
    leadDays: leadDays.sort((a, b) => a - b),
    medianLeadDays: medianOrNull(leadDays),
    missed,
    falseTicketsPer1000HealthyPerMonth: round((falseTickets / Math.max(1, healthyDeviceDays)) * 30 * 1000, 3),
    byKind: Object.fromEntries(Object.entries(kinds).map(([k, { lead, ...v }]) => [k, { ...v, medianLeadDays: medianOrNull(lead) }])),
    drivers,
    tickets: {
      ...tickets,
      precision: round(tickets.tp / Math.max(1, tickets.tp + tickets.fp), 3),
      recall: round((failingScored - tickets.fn) / Math.max(1, failingScored), 3),
    },
  };
}

const medianOrNull = (xs: readonly number[]) => (xs.length ? median(xs) : null);
