/**
 * Hour buckets follow the gateway's local clock: a bucket starts when the local time reads hh:00, so
 * zones with half-hour offsets get buckets starting at :30 UTC, and a day with a DST change has 23 or
 * 25 buckets. Every bucket is one real hour long (DST shifts happen on hour boundaries).
 */
import { utcOffsetMs } from '../../rules/zoneinfo.ts';

const HOUR_MS = 3_600_000;

/** The start of the local hour that contains `ts`. */
export function hourStart(ts: number, timeZone: string): number {
  const local = ts + utcOffsetMs(timeZone, ts);
  return ts - (((local % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

export function hourEnd(start: number): number {
  return start + HOUR_MS;
}

/** `2026-03-29T03:00+02:00`: the local wall time of an instant with its UTC offset. */
export function localLabel(ts: number, timeZone: string): string {
  const off = utcOffsetMs(timeZone, ts);
  const offsetMin = Math.round(off / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${new Date(ts + off).toISOString().slice(0, 16)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The instant local midnight starts the calendar day `YYYY-MM-DD` in `timeZone` (DST days included). */
export function localDayStart(ymd: string, timeZone: string): number {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const target = Date.UTC(y, m - 1, d);
  let t = target;
  for (let i = 0; i < 4; i++) {
    const wall = Math.floor((t + utcOffsetMs(timeZone, t)) / 60_000) * 60_000;
    if (wall === target) return t;
    t -= wall - target;
  }
  return t;
}

/** `YYYY-MM-DD` of the calendar day `days` after `ymd` (calendar arithmetic: no time zone involved). */
export function addDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The local calendar day of an instant. */
export function localDate(ts: number, timeZone: string): string {
  return localLabel(ts, timeZone).slice(0, 10);
}
