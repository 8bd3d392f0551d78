/**
 * A POSIX TZ rule as a TZif footer holds it (RFC 8536 3.3, with its extensions: transition times from
 * -167 to 167 hours, DST all year): `CET-1CEST,M3.5.0,M10.5.0/3`, `<+0545>-5:45`,
 * `IST-1GMT0,M10.5.0,M3.5.0/1` (Dublin's negative DST). Offsets in POSIX count hours west of UTC;
 * what comes out is seconds east, as TZif's own offsets.
 */

/** The rule as a function of an instant (s since the epoch) to its UTC offset (s), or undefined if unreadable. */
export function posixRule(text: string): ((s: number) => number) | undefined {
  const r = new Reader(text);
  if (!r.name()) return undefined;
  const std = r.offset();
  if (std === undefined) return undefined;
  const stdOff = east(std);
  if (r.done()) return () => stdOff;
  if (!r.name()) return undefined;
  const explicit = r.peek() === ',' ? undefined : r.offset();
  const dstOff = explicit === undefined ? stdOff + 3600 : east(explicit);
  const begin = r.eat(',') ? r.change() : undefined;
  const end = begin && r.eat(',') ? r.change() : undefined;
  if (!begin || !end || !r.done()) return undefined;
  return (s) => {
    const year = new Date((s + stdOff) * 1000).getUTCFullYear();
    // DST begins at a standard-time wall clock reading and ends at a DST one
    const from = begin.at(year) - stdOff;
    const to = end.at(year) - dstOff;
    const dst = from < to ? s >= from && s < to : !(s >= to && s < from);
    return dst ? dstOff : stdOff;
  };
}

/** seconds west of UTC (POSIX) as seconds east (never -0) */
function east(west: number): number {
  return west === 0 ? 0 : -west;
}

interface Change {
  /** the local wall-clock time of the change in `year`, as seconds since the epoch read as UTC */
  at(year: number): number;
}

const DAY = 86_400;

class Reader {
  #i = 0;
  constructor(readonly text: string) {}

  done(): boolean {
    return this.#i === this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.#i];
  }

  eat(c: string): boolean {
    if (this.text[this.#i] !== c) return false;
    this.#i++;
    return true;
  }

  /** `CET` or `<+0545>`: the abbreviation itself does not matter here. */
  name(): boolean {
    const m = /^(<[A-Za-z0-9+-]{1,30}>|[A-Za-z]{3,30})/.exec(this.text.slice(this.#i));
    if (!m) return false;
    this.#i += (m[0] as string).length;
    return true;
  }

  /** `[+-]hh[:mm[:ss]]` in seconds; hours up to 167 (RFC 8536's extension for transition times). */
  offset(): number | undefined {
    const m = /^([+-]?)(\d{1,3})(?::(\d{2}))?(?::(\d{2}))?/.exec(this.text.slice(this.#i));
    if (!m || Number(m[2]) > 167) return undefined;
    this.#i += (m[0] as string).length;
    const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === '-' ? -seconds : seconds;
  }

  /** `Mm.w.d`, `Jn` or `n`, then an optional `/time` (default 02:00). */
  change(): Change | undefined {
    const m = /^(?:M(\d{1,2})\.(\d)\.(\d)|J(\d{1,3})|(\d{1,3}))/.exec(this.text.slice(this.#i));
    if (!m) return undefined;
    this.#i += (m[0] as string).length;
    const time = this.eat('/') ? this.offset() : 7200;
    if (time === undefined) return undefined;
    if (m[1] !== undefined) {
      const [month, week, weekday] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (month < 1 || month > 12 || week < 1 || week > 5 || weekday > 6) return undefined;
      return {
        at(year) {
          const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
          const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
          let day = 1 + ((weekday - first + 7) % 7) + 7 * (week - 1);
          while (day > length) day -= 7;
          return Date.UTC(year, month - 1, day) / 1000 + time;
        },
      };
    }
    const julian = m[4] !== undefined;
    const n = Number(m[4] ?? m[5]);
    if (julian ? n < 1 || n > 365 : n > 365) return undefined;
    return {
      at(year) {
        const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
        // Jn counts 1..365 and never February 29; n counts 0..365 with it
        const day = julian ? n - 1 + (leap && n >= 60 ? 1 : 0) : n;
        return Date.UTC(year, 0, 1) / 1000 + day * DAY + time;
      },
    };
  }
}
