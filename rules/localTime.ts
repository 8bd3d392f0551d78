/**
 * Local wall-clock time of an instant in an IANA time zone: a pure function of (instant, zone),
 * from the zone's UTC offset (zoneinfo.ts) and memoised per minute (rules ask for it on every
 * condition check).
 */
import { utcOffsetMs } from './zoneinfo.ts';

export { isTimeZone } from './zoneinfo.ts';

export interface LocalTime {
  /** Minutes after local midnight, 0..1439. */
  readonly minuteOfDay: number;
  /** 0 = Sunday .. 6 = Saturday, as in cron. */
  readonly weekday: number;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const cache = new Map<string, LocalTime>();

/** An unknown zone reads as UTC (rules are checked for known zones before they run). */
export function localTime(instant: number, timeZone: string): LocalTime {
  const minute = Math.floor(instant / 60_000);
  const key = `${timeZone}\u0000${minute}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const at = minute * 60_000;
  const local = new Date(at + utcOffsetMs(timeZone, at));
  const result = { minuteOfDay: local.getUTCHours() * 60 + local.getUTCMinutes(), weekday: local.getUTCDay() };
  if (cache.size > 10_000) cache.clear();
  cache.set(key, result);
  return result;
}

/** True when `minute` lies in [from, to); a window with from > to runs across midnight. */
export function inWindow(minute: number, from: number, to: number): boolean {
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}
