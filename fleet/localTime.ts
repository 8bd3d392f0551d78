/** Wall-clock arithmetic in a site's IANA time zone, through Intl (no time zone table of our own). */

const formats = new Map<string, Intl.DateTimeFormat>();

function parts(timeZone: string, at: number): { y: number; m: number; d: number; h: number; min: number; s: number } {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, Number(x.value)]));
  return { y: p.year as number, m: p.month as number, d: p.day as number, h: p.hour as number, min: p.minute as number, s: p.second as number };
}

/** The zone's offset from UTC at `at`, ms (east positive). */
export function offsetMs(timeZone: string, at: number): number {
  const p = parts(timeZone, at);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s) - Math.floor(at / 1000) * 1000;
}

/** The instant of a local wall time (a time skipped by a DST change moves forward by the change). */
export function localToUtc(timeZone: string, y: number, m: number, d: number, h = 0, min = 0): number {
  const wall = Date.UTC(y, m - 1, d, h, min);
  const first = wall - offsetMs(timeZone, wall);
  return wall - offsetMs(timeZone, first);
}

/** The next time the wall clock in `timeZone` shows `hh:mm` after `now`. */
export function nextLocalTime(hhmm: string, timeZone: string, now: number): number {
  const [h, min] = hhmm.split(':').map(Number) as [number, number];
  const today = parts(timeZone, now);
  for (let day = 0; day < 3; day++) {
    const at = localToUtc(timeZone, today.y, today.m, today.d + day, h, min);
    if (at > now) return at;
  }
  throw new Error(`no ${hhmm} in ${timeZone} after ${new Date(now).toISOString()}`);
}

/** A month `YYYY-MM` in a zone: [start, end) in ms. */
export function monthRange(month: string, timeZone: string): { start: number; end: number } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return { start: localToUtc(timeZone, y, m, 1), end: localToUtc(timeZone, y, m + 1, 1) };
}
