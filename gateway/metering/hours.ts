/**
 * Hour buckets follow the gateway's local clock: a bucket starts when the local time reads hh:00, so
 * zones with half-hour offsets get buckets starting at :30 UTC, and a day with a DST change has 23 or
 * 25 buckets. Every bucket is one real hour long (DST shifts happen on hour boundaries).
 */
const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function parts(ts: number, timeZone: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ts))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** The start of the local hour that contains `ts`. */
export function hourStart(ts: number, timeZone: string): number {
  const p = parts(ts, timeZone);
  const intoHour = (p.minute ?? 0) * 60_000 + (p.second ?? 0) * 1000 + (((ts % 1000) + 1000) % 1000);
  return ts - intoHour;
}

export function hourEnd(start: number): number {
  return start + HOUR_MS;
}

/** `2026-03-29T03:00+02:00`: the local wall time of an instant with its UTC offset. */
export function localLabel(ts: number, timeZone: string): string {
  const p = parts(ts, timeZone);
  const pad = (n: number | undefined, w = 2) => String(n ?? 0).padStart(w, '0');
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  const offsetMin = Math.round((asUtc - (ts - (((ts % 1000) + 1000) % 1000))) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The instant local midnight starts the calendar day `YYYY-MM-DD` in `timeZone` (DST days included). */
export function localDayStart(ymd: string, timeZone: string): number {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const target = Date.UTC(y, m - 1, d);
  let t = target;
  for (let i = 0; i < 4; i++) {
    const p = parts(t, timeZone);
    const wall = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0);
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
