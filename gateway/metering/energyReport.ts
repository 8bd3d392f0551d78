import type { UsageBucket } from '../../protocol/index.ts';
import { inWindow, localTime, WEEKDAYS } from '../../rules/localTime.ts';
import type { TariffDef } from '../../rules/schema.ts';
import { parseClock } from '../../rules/duration.ts';
import { addDays, localDate, localDayStart } from './hours.ts';

/**
 * Energy and costs for a day, week or month, from the closed hourly usage buckets: energy per device
 * and in total, each hour priced by the tariff window it starts in (the first configured window with a
 * price, else the default price), the biggest consumers, the counters (cups), and what is missing:
 * hours with no bucket or with gaps are counted as missing, never as zero. Pure.
 */
export type Period = 'day' | 'week' | 'month';

export interface Prices {
  readonly currency: string;
  /** per kWh when no priced tariff window applies; undefined: energy is not priced */
  readonly price: number | undefined;
  /** per kWh in a tariff window (names from `tariffs`) */
  readonly prices: Readonly<Record<string, number>>;
}

export interface EnergyReport {
  readonly period: { readonly kind: Period; readonly from: string; readonly to: string; readonly start: number; readonly end: number };
  readonly currency: string;
  readonly priced: boolean;
  readonly total: { readonly kwh: number; readonly cost: number | null; readonly missingHours: number; readonly hours: number };
  readonly devices: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly kwh: number;
    readonly cost: number | null;
    /** share of the total energy, 0-1 */
    readonly share: number;
    readonly counters: Readonly<Record<string, number>>;
    readonly missingHours: number;
    readonly hours: number;
  }>;
  /** per local day; `hours`: device-hours expected (0: nothing was metered yet, or the day is to come) */
  readonly days: ReadonlyArray<{
    readonly day: string;
    readonly kwh: number;
    readonly cost: number | null;
    readonly missingHours: number;
    readonly hours: number;
  }>;
  readonly byTariff: ReadonlyArray<{ readonly tariff: string; readonly kwh: number; readonly cost: number | null }>;
}

const HOUR = 3_600_000;
const r3 = (n: number) => Math.round(n * 1000) / 1000;
const r2 = (n: number) => Math.round(n * 100) / 100;

/** The local calendar range of the period containing `date`: weeks start on Monday. */
export function periodRange(kind: Period, date: string, timeZone: string): { from: string; to: string; start: number; end: number } {
  let from = date;
  let to: string;
  if (kind === 'day') to = addDays(date, 1);
  else if (kind === 'week') {
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 Sunday
    from = addDays(date, -((weekday + 6) % 7));
    to = addDays(from, 7);
  } else {
    from = `${date.slice(0, 7)}-01`;
    const [y, m] = from.split('-').map(Number) as [number, number];
    to = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  }
  return { from, to, start: localDayStart(from, timeZone), end: localDayStart(to, timeZone) };
}

/** Which priced window an hour starting at `ts` falls in, or undefined (the default price). */
function tariffOf(ts: number, timeZone: string, tariffs: Readonly<Record<string, TariffDef>>, prices: Readonly<Record<string, number>>): string | undefined {
  const t = localTime(ts, timeZone);
  for (const [name, w] of Object.entries(tariffs)) {
    if (prices[name] === undefined) continue;
    if (w.weekdays && !w.weekdays.includes(WEEKDAYS[t.weekday] as (typeof WEEKDAYS)[number])) continue;
    if (inWindow(t.minuteOfDay, parseClock(w.from) as number, parseClock(w.to) as number)) return name;
  }
  return undefined;
}

export function energyReport(o: {
  readonly kind: Period;
  readonly date: string;
  readonly timeZone: string;
  readonly now: number;
  readonly tariffs: Readonly<Record<string, TariffDef>>;
  readonly prices: Prices;
  /** every device's buckets in the period, and when its first bucket ever started (hours before it are not missing) */
  readonly devices: ReadonlyArray<{ readonly id: string; readonly name: string; readonly firstStart: number; readonly buckets: readonly UsageBucket[] }>;
}): EnergyReport {
  const range = periodRange(o.kind, o.date, o.timeZone);
  const priced = o.prices.price !== undefined || Object.keys(o.prices.prices).length > 0;
  const priceOf = (tariff: string | undefined) => (tariff !== undefined ? o.prices.prices[tariff] : o.prices.price);
  const days = new Map<string, { kwh: number; cost: number; unpriced: boolean; missingHours: number; hours: number }>();
  for (let d = range.from; d < range.to; d = addDays(d, 1)) days.set(d, { kwh: 0, cost: 0, unpriced: false, missingHours: 0, hours: 0 });
  const tariffTotals = new Map<string, { kwh: number; cost: number; unpriced: boolean }>();
  const devices = [];
  const closedUntil = Math.min(range.end, Math.floor(o.now / HOUR) * HOUR); // hours still open are not missing
  for (const dev of o.devices) {
    let kwh = 0;
    let cost = 0;
    let unpriced = false;
    let missing = 0;
    const counters: Record<string, number> = {};
    const seen = new Set<number>();
    let metered = false;
    for (const b of dev.buckets) {
      seen.add(b.start);
      const day = days.get(localDate(b.start, o.timeZone));
      const gapMs = b.gaps.reduce((sum, g) => sum + Math.max(0, Math.min(g.to, b.end) - Math.max(g.from, b.start)), 0);
      const missingHere = gapMs / HOUR;
      missing += missingHere;
      if (day) day.missingHours += missingHere;
      for (const [name, m] of Object.entries(b.metrics)) {
        if (m.role === 'counter') {
          counters[name] = r3((counters[name] ?? 0) + m.delta);
          metered = true;
        }
        if (m.role !== 'energy') continue;
        metered = true;
        const k = m.delta / 1000;
        const tariff = tariffOf(b.start, o.timeZone, o.tariffs, o.prices.prices);
        const price = priceOf(tariff);
        kwh += k;
        if (price === undefined) unpriced = true;
        else cost += k * price;
        const t = tariffTotals.get(tariff ?? 'default') ?? { kwh: 0, cost: 0, unpriced: false };
        t.kwh += k;
        if (price === undefined) t.unpriced = true;
        else t.cost += k * price;
        tariffTotals.set(tariff ?? 'default', t);
        if (day) {
          day.kwh += k;
          if (price === undefined) day.unpriced = true;
          else day.cost += k * price;
        }
      }
    }
    if (!metered) continue;
    // hours with no bucket at all, from when the device was first metered, up to the last closed hour
    let hours = 0;
    for (let h = Math.max(range.start, Math.ceil(dev.firstStart / HOUR) * HOUR); h < closedUntil; h += HOUR) {
      hours++;
      const day = days.get(localDate(h, o.timeZone));
      if (day) day.hours += 1;
      if (seen.has(h)) continue;
      missing += 1;
      if (day) day.missingHours += 1;
    }
    devices.push({
      id: dev.id,
      name: dev.name,
      kwh: r3(kwh),
      cost: priced && !unpriced ? r2(cost) : null,
      share: 0,
      counters,
      missingHours: r2(missing),
      hours,
    });
  }
  const totalKwh = devices.reduce((s, d) => s + d.kwh, 0);
  const withShare = devices.map((d) => ({ ...d, share: totalKwh > 0 ? r3(d.kwh / totalKwh) : 0 })).sort((a, b) => b.kwh - a.kwh);
  const anyUnpriced = withShare.some((d) => d.cost === null && d.kwh > 0);
  return {
    period: { kind: o.kind, ...range },
    currency: o.prices.currency,
    priced,
    total: {
      kwh: r3(totalKwh),
      cost: priced && !anyUnpriced ? r2(withShare.reduce((s, d) => s + (d.cost ?? 0), 0)) : null,
      missingHours: r2(withShare.reduce((s, d) => s + d.missingHours, 0)),
      hours: withShare.reduce((s, d) => s + d.hours, 0),
    },
    devices: withShare,
    days: [...days].map(([day, v]) => ({
      day,
      kwh: r3(v.kwh),
      cost: priced && !v.unpriced ? r2(v.cost) : null,
      missingHours: r2(v.missingHours),
      hours: v.hours,
    })),
    byTariff: [...tariffTotals].map(([tariff, v]) => ({ tariff, kwh: r3(v.kwh), cost: priced && !v.unpriced ? r2(v.cost) : null })),
  };
}
