/**
 * Local wall-clock time of an instant in an IANA time zone: a pure function of (instant, zone),
 * computed with Intl and memoised per minute (rules ask for it on every condition check).
 */
export interface LocalTime {
  /** Minutes after local midnight, 0..1439. */
  readonly minuteOfDay: number;
  /** 0 = Sunday .. 6 = Saturday, as in cron. */
  readonly weekday: number;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();
const cache = new Map<string, LocalTime>();

export function localTime(instant: number, timeZone: string): LocalTime {
  const minute = Math.floor(instant / 60_000);
  const key = `${timeZone}\u0000${minute}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  let hour = 0;
  let min = 0;
  let weekday = 0;
  for (const part of f.formatToParts(new Date(minute * 60_000))) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') min = Number(part.value);
    else if (part.type === 'weekday') weekday = WEEKDAYS.indexOf(part.value.toLowerCase().slice(0, 3) as Weekday);
  }
  const result = { minuteOfDay: hour * 60 + min, weekday };
  if (cache.size > 10_000) cache.clear();
  cache.set(key, result);
  return result;
}

/** True when `minute` lies in [from, to); a window with from > to runs across midnight. */
export function inWindow(minute: number, from: number, to: number): boolean {
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
