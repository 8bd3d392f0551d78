import { errorFunction, sampleVariance } from 'simple-statistics';

/**
 * Predictive maintenance: how likely a device is to fail within the week, from its own maintenance
 * signals and usage against the other devices of its model on the same days. Each feature is a
 * trend (the last three days against the device's own days two weeks before), and each trend is
 * set against its peers' trends that day as a robust z-score ((x - median) / (1.4826 * MAD)), so
 * what moves the whole fleet (a heat wave, a busy Saturday, winter) cancels out and what moves one
 * device stands out. The score is the largest z, and the feature that gave it is the explanation.
 */

/** One device's day, as the fleet aggregates it (means over the day's signals and buckets). */
export interface DeviceDay {
  readonly key: string;
  readonly model: string;
  /** the day's start, ms (UTC) */
  readonly day: number;
  /** mean duty cycle (0-1) of the day's `duty_cycle` signals */
  readonly duty?: number | undefined;
  /** mean minutes of the day's `recovery_time` signals */
  readonly recovery?: number | undefined;
  /** energy per counted unit (Wh per cup) from the day's usage buckets */
  readonly energyPerUnit?: number | undefined;
  /** the day's busiest hours: the 90th percentile of its hourly duty cycles (a device fails when it reaches 1 there) */
  readonly dutyPeak?: number | undefined;
  /**
   * how far the day's warmest (a boiler's coldest) hour strayed from its usual hour: the highest
   * hourly mean temperature minus the lowest, °C. A cabinet or boiler that can no longer keep up
   * shows it first in its busiest hours.
   */
  readonly warmth?: number | undefined;
  /**
   * the least-squares line of the day's hourly duty cycles against the hour's counted units (cups):
   * the duty cycle with nothing drawn, and what each unit adds. Both rise as scale takes the
   * element's power, whatever the day's trade (needs 12 hours with both; none without a counter)
   */
  readonly dutyAtRest?: number | undefined;
  readonly dutyPerUnit?: number | undefined;
  /** the units of the day's busiest hour (with `dutyAtRest`) */
  readonly peakUnits?: number | undefined;
  /** when the device's service request still outstanding at the day's end (a boolean signal such as `descale_needed`) was raised, ms */
  readonly serviceDueSince?: number | undefined;
}

export const FEATURES = ['duty', 'recovery', 'energyPerUnit', 'warmth'] as const;
export type Feature = (typeof FEATURES)[number];

export interface RiskParams {
  /** days in the recent window, and the span (in days before) of the device's own reference */
  readonly recentDays: number;
  readonly referenceFrom: number;
  readonly referenceTo: number;
  /** the smallest spread of peers' trends that counts (so a fleet that agrees perfectly does not divide by 0) */
  readonly minSpread: Readonly<Record<Feature, number>>;
  /** relative trends for quantities whose level differs from device to device */
  readonly relative: Readonly<Record<Feature, boolean>>;
}

export const DEFAULT_PARAMS: RiskParams = {
  recentDays: 3,
  referenceFrom: 20,
  referenceTo: 8,
  minSpread: { duty: 0.02, recovery: 0.5, energyPerUnit: 0.03, warmth: 0.3 },
  relative: { duty: false, recovery: false, energyPerUnit: true, warmth: false },
};

export interface Risk {
  readonly key: string;
  readonly model: string;
  readonly day: number;
  /** the largest robust z of the device's trends against its peers' (0 when nothing rose) */
  readonly score: number;
  readonly driver: Feature | undefined;
  /** the driver's trend, and its peers' median trend */
  readonly trend: number | undefined;
  readonly peersMedian: number | undefined;
  readonly peers: number;
  /**
   * days until the busiest hours' duty cycle reaches 100 % at its rise of the last week (a cooling
   * or heating element that cannot keep up any more); undefined when it is not rising
   */
  readonly etaDays: number | undefined;
  /** each feature's robust z against its peers (the score is the largest) */
  readonly z: Readonly<Partial<Record<Feature, number>>>;
  /**
   * the share of an hour the element would now need to serve again the busiest hour of the last two
   * weeks (`dutyAtRest + dutyPerUnit * loadUnits`): at 1 or more the next such hour runs it cold
   */
  readonly load: number | undefined;
  readonly loadUnits: number | undefined;
  /**
   * the chance that a busy hour of the next `chanceDays` days asks more of the element than it will
   * then have. A machine that counts what it serves: the hourly units its power serves
   * (`(1 - dutyAtRest) / dutyPerUnit`) along their line of the last week, against its own busiest
   * hours of its last three weeks (log-normal). One that does not (a cabinet), once its trend stands
   * out from its peers': its busiest hours' duty cycle along its last week's line, uncapped, reaching
   * `CABINET_FAIL_LEVEL` of its power, with the line's own scatter
   */
  readonly failChance: number | undefined;
  readonly chanceDays: number | undefined;
}

const DAY = 86_400_000;
/** the hours with both a duty cycle and a counted unit that a day's line of one against the other needs */
export const MIN_FIT_HOURS = 12;
/** how many days back the busiest hour that `load` serves again is looked for */
const LOAD_DAYS = 14;
/** a load the words mention (healthy machines stay under ~0.8) */
const LOAD_WORTH_SAYING = 0.9;
/** a chance of failing the words mention */
const CHANCE_WORTH_SAYING = 0.5;
/**
 * the busiest hours' duty cycle at which the element can give no more: a temperature that strays
 * then is a cabinet or boiler that cannot keep up (the same swing on a device with power to spare is a busy day)
 */
const SATURATED = 0.95;

/** Scores every device that has data on `day`, against the devices of its model. */
export function scoreDay(days: readonly DeviceDay[], day: number, p: RiskParams = DEFAULT_PARAMS): Risk[] {
  const byDevice = new Map<string, Map<number, DeviceDay>>();
  for (const d of days) {
    let m = byDevice.get(d.key);
    if (!m) byDevice.set(d.key, (m = new Map()));
    m.set(d.day, d);
  }
  const trends = new Map<string, { model: string; t: Partial<Record<Feature, number>>; saturated: boolean }>();
  for (const [key, series] of byDevice) {
    const today = series.get(day);
    if (!today) continue;
    const t: Partial<Record<Feature, number>> = {};
    for (const f of FEATURES) {
      const recent = values(series, f, day - (p.recentDays - 1) * DAY, day);
      const reference = values(series, f, day - p.referenceFrom * DAY, day - p.referenceTo * DAY);
      if (recent.length < 2 || reference.length < 4) continue;
      const now = mean(recent);
      const before = median(reference);
      t[f] = p.relative[f] ? (before > 0 ? now / before - 1 : undefined) : now - before;
      if (t[f] === undefined) delete t[f];
    }
    trends.set(key, { model: today.model, t, saturated: (today.dutyPeak ?? 0) >= SATURATED });
  }
  const out: Risk[] = [];
  const models = new Set([...trends.values()].map((v) => v.model));
  for (const model of models) {
    const members = [...trends.entries()].filter(([, v]) => v.model === model);
    const stats = new Map<Feature, { median: number; spread: number; n: number }>();
    for (const f of FEATURES) {
      const xs = members.map(([, v]) => v.t[f]).filter((x): x is number => x !== undefined);
      if (xs.length < 5) continue;
      const m = median(xs);
      stats.set(f, { median: m, spread: Math.max(p.minSpread[f], 1.4826 * median(xs.map((x) => Math.abs(x - m)))), n: xs.length });
    }
    for (const [key, v] of members) {
      let best: { z: number; f: Feature } | undefined;
      const zs: Partial<Record<Feature, number>> = {};
      for (const f of FEATURES) {
        const s = stats.get(f);
        const x = v.t[f];
        if (!s || x === undefined || (f === 'warmth' && !v.saturated)) continue;
        const z = (x - s.median) / s.spread;
        zs[f] = round(z);
        if (!best || z > best.z) best = { z, f };
      }
      const s = best ? stats.get(best.f) : undefined;
      const series = byDevice.get(key) as Map<number, DeviceDay>;
      out.push({
        key,
        model,
        day,
        score: best ? Math.max(0, round(best.z)) : 0,
        driver: best && best.z > 0 ? best.f : undefined,
        trend: best ? round(v.t[best.f] as number) : undefined,
        peersMedian: s ? round(s.median) : undefined,
        peers: s?.n ?? members.length,
        etaDays: eta(series, day),
        z: zs,
        ...load(series, day),
        ...chance(series, day, best?.z ?? 0),
      });
    }
  }
  return out.sort((a, b) => b.score - a.score);
}

/** The score, in words a technician reads ("duty cycle up 0.21 in a week; its model's median +0.01"). */
export function riskWords(
  r: Pick<Risk, 'driver' | 'trend' | 'peersMedian' | 'score'> & Partial<Pick<Risk, 'z' | 'load' | 'loadUnits' | 'failChance' | 'chanceDays'>>,
): string {
  const words = [driverWords(r)];
  const w = r.z?.warmth;
  if (r.driver !== 'warmth' && w !== undefined && w >= 1)
    words.push(`its temperature swings ${w.toFixed(1)} spreads more than its peers' while it runs flat out`);
  if (r.load !== undefined && r.load >= LOAD_WORTH_SAYING)
    words.push(`its busiest hour of the last two weeks (${r.loadUnits} units) would now need its element ${Math.round(r.load * 100)} % of the hour`);
  if (r.failChance !== undefined && r.failChance >= CHANCE_WORTH_SAYING)
    words.push(`a ${Math.round(r.failChance * 100)} % chance that a busy hour of the next ${r.chanceDays} days asks more than its element will have`);
  return words.join('; ');
}

function driverWords(r: Pick<Risk, 'driver' | 'trend' | 'peersMedian' | 'score'>): string {
  if (!r.driver || r.trend === undefined) return 'nothing rising against its peers';
  const what = {
    duty: 'compressor or heater duty cycle',
    recovery: 'time to cool down after the door closes',
    energyPerUnit: 'energy per cup',
    warmth: "temperature's swing over the day",
  }[r.driver];
  const fmt = (x: number) =>
    r.driver === 'energyPerUnit'
      ? `${x >= 0 ? '+' : ''}${Math.round(x * 100)} %`
      : r.driver === 'duty'
        ? `${x >= 0 ? '+' : ''}${Math.round(x * 100)} points`
        : r.driver === 'warmth'
          ? `${x >= 0 ? '+' : ''}${x.toFixed(1)} °C`
          : `${x >= 0 ? '+' : ''}${x.toFixed(1)} min`;
  return `${what} ${fmt(r.trend)} against two weeks before (others of its model: ${fmt(r.peersMedian ?? 0)}), ${r.score.toFixed(1)} spreads above them`;
}

/** Days until `dutyPeak` reaches 1 along the least-squares line through its last 7 days. */
function eta(series: ReadonlyMap<number, DeviceDay>, day: number): number | undefined {
  const pts: Array<[number, number]> = [];
  for (let i = 6; i >= 0; i--) {
    const v = series.get(day - i * DAY)?.dutyPeak;
    if (v !== undefined) pts.push([-i, v]);
  }
  const fit = pts.length >= 4 ? leastSquares(pts) : undefined;
  if (!fit || !(fit.slope > 0.002)) return undefined;
  return round(Math.max(0, (1 - fit.intercept) / fit.slope));
}

/** Today's line of duty against units, applied to the busiest hour of the last two weeks. */
function load(series: ReadonlyMap<number, DeviceDay>, day: number): Pick<Risk, 'load' | 'loadUnits'> {
  const today = series.get(day);
  if (today?.dutyAtRest === undefined || today.dutyPerUnit === undefined) return { load: undefined, loadUnits: undefined };
  let units = 0;
  for (let i = 0; i < LOAD_DAYS; i++) units = Math.max(units, series.get(day - i * DAY)?.peakUnits ?? 0);
  return { load: round(today.dutyAtRest + today.dutyPerUnit * units), loadUnits: units };
}

/** how many days ahead `failChance` looks (a week ahead flagged boilers one to two weeks early in the evaluation) */
export const CHANCE_DAYS = 5;
/** the share of its served units an hour asks for when a boiler fails (failed machines in the simulator: median 0.91, p10 0.76) */
const FAIL_SHARE = 0.85;
/** the spread (log) of that share from failure to failure */
const FAIL_SHARE_SPREAD = 0.14;
/** the days an owner takes to act on a service request (a descale): until then the loss of power is not projected on */
export const SERVICE_GRACE_DAYS = 5;

/**
 * See `Risk.failChance`. The served units' line is projected on only while a service request is
 * overdue: a machine that asks to be descaled loses power until its owner descales it, which is its
 * service interval, not a fault; one whose request goes unanswered keeps losing it.
 */
function servedChance(series: ReadonlyMap<number, DeviceDay>, day: number): number | undefined {
  const pts: Array<[number, number]> = [];
  for (let i = 6; i >= 0; i--) {
    const d = series.get(day - i * DAY);
    if (d?.dutyAtRest !== undefined && d.dutyPerUnit !== undefined && d.dutyPerUnit > 0) pts.push([-i, (1 - d.dutyAtRest) / d.dutyPerUnit]);
  }
  const fit = pts.length >= 4 ? leastSquares(pts) : undefined;
  const busiest: number[] = [];
  for (let i = 0; i < 21; i++) {
    const u = series.get(day - i * DAY)?.peakUnits;
    if (u !== undefined && u > 0) busiest.push(Math.log(u));
  }
  if (!fit || busiest.length < 7) return undefined;
  const since = series.get(day)?.serviceDueSince;
  const slope = since !== undefined && day + DAY - since >= SERVICE_GRACE_DAYS * DAY ? fit.slope : 0;
  const mu = mean(busiest);
  const sigma = Math.sqrt(sampleVariance(busiest) + FAIL_SHARE_SPREAD ** 2);
  let survive = 1;
  for (let k = 1; k <= CHANCE_DAYS; k++) {
    const served = fit.intercept + slope * k;
    if (!(served > 0)) return 1;
    survive *= normalCdf((Math.log(FAIL_SHARE * served) - mu) / sigma);
  }
  return round(1 - survive);
}

/** how many days ahead a cabinet's `failChance` looks (5 flagged door seals early in the evaluation) */
export const CABINET_CHANCE_DAYS = 3;
/** the busiest hours' need, as a share of the cabinet's power, taken as a failure (their duty cycle, projected uncapped) */
const CABINET_FAIL_LEVEL = 1.2;
/** the least scatter of a week's busiest hours about their line (log) */
const CABINET_MIN_SPREAD = 0.05;
/** the score at which a cabinet's chance counts: a heat wave takes every cabinet's busiest hours towards 100 %, a fault one's */
const STANDS_OUT = 4;

/** `Risk.failChance` and its days: a counting machine's by what it serves, a cabinet's by its busiest hours. */
function chance(series: ReadonlyMap<number, DeviceDay>, day: number, score: number): Pick<Risk, 'failChance' | 'chanceDays'> {
  const served = servedChance(series, day);
  if (served !== undefined) return { failChance: served, chanceDays: CHANCE_DAYS };
  const cabinet = score >= STANDS_OUT ? cabinetChance(series, day) : undefined;
  return cabinet === undefined ? { failChance: undefined, chanceDays: undefined } : { failChance: cabinet, chanceDays: CABINET_CHANCE_DAYS };
}

/** See `Risk.failChance`: the busiest hours' duty cycle (log) on its line of the last 7 days, with the scatter about it. */
function cabinetChance(series: ReadonlyMap<number, DeviceDay>, day: number): number | undefined {
  const pts: Array<[number, number]> = [];
  for (let i = 6; i >= 0; i--) {
    const v = series.get(day - i * DAY)?.dutyPeak;
    if (v !== undefined && v > 0) pts.push([-i, Math.log(v)]);
  }
  const fit = pts.length >= 5 ? leastSquares(pts) : undefined;
  if (!fit) return undefined;
  const scatter = pts.reduce((a, [x, y]) => a + (y - (fit.intercept + fit.slope * x)) ** 2, 0) / (pts.length - 2);
  const sigma = Math.max(CABINET_MIN_SPREAD, Math.sqrt(scatter));
  const slope = Math.max(0, fit.slope);
  let survive = 1;
  for (let k = 1; k <= CABINET_CHANCE_DAYS; k++) survive *= normalCdf((Math.log(CABINET_FAIL_LEVEL) - (fit.intercept + slope * k)) / sigma);
  return round(1 - survive);
}

/**
 * When the service request outstanding after one more boolean signal was raised: an exceeded one
 * raises it (the earliest of a run counts), one that is not answers it. The fleet reads its stored
 * signals and the evaluation the simulator's records through this one rule.
 */
export const serviceDueAfter = (since: number | undefined, signal: { readonly at: number; readonly exceeded: boolean }) =>
  signal.exceeded ? (since ?? signal.at) : undefined;

/** Φ(x), the standard normal distribution function. */
export const normalCdf = (x: number) => (1 + errorFunction(x / Math.SQRT2)) / 2;

/** The least-squares line y = intercept + slope * x through `pts`; undefined when every x is the same. */
export function leastSquares(pts: ReadonlyArray<readonly [number, number]>): { intercept: number; slope: number } | undefined {
  if (pts.length < 2) return undefined;
  const mx = mean(pts.map((p) => p[0]));
  const my = mean(pts.map((p) => p[1]));
  const sxx = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  if (!(sxx > 0)) return undefined;
  const slope = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  return { intercept: my - slope * mx, slope };
}

function values(series: ReadonlyMap<number, DeviceDay>, f: Feature, from: number, to: number): number[] {
  const out: number[] = [];
  for (let d = from; d <= to; d += DAY) {
    const v = series.get(d)?.[f];
    if (v !== undefined && Number.isFinite(v)) out.push(v);
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A day counts towards a ticket when the device cannot keep up: its temperature strays from its usual
 * swing while its element already runs flat out in the busiest hours (`warmth` z at or over
 * `warmth`), or its score is at or over `threshold` and its busiest hours will run flat out within
 * `etaDays`, or serving its busiest hour of the last two weeks again would take its element `load`
 * of the hour or more, or its `failChance` is `chance` or more. On `days` days running, the fleet
 * opens a ticket (two keeps one noisy day from sending a technician); a temperature that strays
 * `urgentWarmth` spreads or more opens one on its first day (a cabinet losing its stock now). A rise
 * alone, with power to spare, is ranked but not ticketed: in the evaluation such tickets came one to
 * two weeks before the failure, a technician sent too early.
 */
export interface TicketRule {
  readonly threshold: number;
  readonly days: number;
  readonly etaDays: number;
  readonly warmth: number;
  readonly load: number;
  readonly chance: number;
  readonly urgentWarmth: number;
}
export const DEFAULT_TICKET_RULE: TicketRule = { threshold: 4, days: 2, etaDays: 0, warmth: 2, load: 1.2, chance: 0.8, urgentWarmth: 5 };

type TicketInput = Pick<Risk, 'score' | 'etaDays' | 'z' | 'load' | 'failChance'>;

/** Whether one day's risk counts towards a ticket. */
export const overThreshold = (r: TicketInput, rule: TicketRule) =>
  (r.z.warmth ?? 0) >= rule.warmth ||
  (r.load ?? 0) >= rule.load ||
  (r.failChance ?? 0) >= rule.chance ||
  (r.score >= rule.threshold && r.etaDays !== undefined && r.etaDays <= rule.etaDays);

/** Whether one day's risk opens a ticket on its own, without `rule.days` days running. */
export const ticketAtOnce = (r: TicketInput, rule: TicketRule) => (r.z.warmth ?? 0) >= rule.urgentWarmth;

/** Whether a device is at risk today (a ticket opens unless one is): over the threshold today and on the `daysBefore` days running before it, or at once. */
export const atRisk = (r: TicketInput, daysBefore: number, rule: TicketRule) =>
  ticketAtOnce(r, rule) || (overThreshold(r, rule) && daysBefore >= rule.days - 1);
