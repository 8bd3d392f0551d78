/**
 * UTC offsets of IANA time zones, read from the system's tz database (TZif files, RFC 8536, in
 * /usr/share/zoneinfo or $TZDIR) instead of Intl: a process's first Intl.DateTimeFormat maps 6-8 MB
 * of ICU's data into its RSS (measured: a gateway at 1,000 devices 126 -> 119 MB), and the OS's tzdata
 * is the copy apt keeps current. A zone without a readable file (no tzdata package, a name only ICU
 * knows, another spelling) is answered by Intl, as before.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { posixRule } from './posixTz.ts';

/** What a time zone says about an instant. */
export interface ZoneOffsets {
  /** local wall-clock time minus UTC at `instant` (ms since the epoch), in ms */
  offsetMs(instant: number): number;
}

/** Zone names as the tz database spells them: letters, digits, `_`, `+`, `-`, in `/`-separated parts. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,3}$/;
const zones = new Map<string, ZoneOffsets | null>();

/** The zone's offsets, or undefined when neither the tz database nor Intl knows the name. */
export function zoneOffsets(zone: string): ZoneOffsets | undefined {
  let z = zones.get(zone);
  if (z === undefined) {
    z = fromFile(zone) ?? fromIntl(zone) ?? null;
    if (zones.size < 1000) zones.set(zone, z);
  }
  return z ?? undefined;
}

/** Local wall-clock time minus UTC at `instant`, ms; an unknown zone (refused where zones are configured) reads as UTC. */
export function utcOffsetMs(zone: string, instant: number): number {
  return zoneOffsets(zone)?.offsetMs(instant) ?? 0;
}

export function isTimeZone(zone: string): boolean {
  return zoneOffsets(zone) !== undefined;
}

const UTC_ALIASES = new Set(['Etc/UTC', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'UCT', 'Universal', 'Zulu']);

/** The machine's own zone: $TZ, then the /etc/localtime link, then /etc/timezone, then Intl's guess. */
export function systemTimeZone(): string {
  const candidates: Array<() => string | undefined> = [
    () => process.env.TZ?.replace(/^:/, ''),
    () => readlinkSync('/etc/localtime').match(/zoneinfo\/(.+)$/)?.[1],
    () => readFileSync('/etc/timezone', 'utf8').trim(),
  ];
  for (const candidate of candidates) {
    let name: string | undefined;
    try {
      name = candidate();
    } catch {
      continue;
    }
    if (name && ZONE_NAME.test(name) && isTimeZone(name)) return UTC_ALIASES.has(name) ? 'UTC' : name;
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function fromFile(zone: string): ZoneOffsets | undefined {
  if (!ZONE_NAME.test(zone) || /^(posix|right)\//.test(zone)) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(process.env.TZDIR ?? '/usr/share/zoneinfo', zone));
  } catch {
    return undefined;
  }
  return parseTzif(bytes);
}

/**
 * A TZif file's transitions and, for instants after the last of them, its footer's POSIX TZ rule.
 * Undefined for what this reader does not take: a damaged file, leap-second ("right/") data, a
 * footer rule it cannot read.
 */
export function parseTzif(b: Buffer): ZoneOffsets | undefined {
  if (b.length < 44 || b.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => b.readUInt32BE(at + 20 + 4 * i)) as [number, number, number, number, number, number];
  let header = 0;
  let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0);
  let timeSize = 4;
  if ((b[4] ?? 0) >= 0x32) {
    // version 2+: skip the 32-bit block for the 64-bit one, which is followed by the footer
    header = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    if (b.length < header + 44 || b.toString('latin1', header, header + 4) !== 'TZif') return undefined;
    [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(header);
    timeSize = 8;
  }
  const start = header + 44;
  const end = start + timecnt * (timeSize + 1) + typecnt * 6 + charcnt + leap * (timeSize + 4) + isstd + isut;
  if (leap > 0 || typecnt === 0 || end > b.length) return undefined;
  const times = new Float64Array(timecnt);
  for (let i = 0; i < timecnt; i++) times[i] = timeSize === 8 ? Number(b.readBigInt64BE(start + 8 * i)) : b.readInt32BE(start + 4 * i);
  const kinds = b.subarray(start + timecnt * timeSize, start + timecnt * (timeSize + 1));
  const typesAt = start + timecnt * (timeSize + 1);
  const utoff = Int32Array.from({ length: typecnt }, (_, i) => b.readInt32BE(typesAt + 6 * i));
  const offsets = Int32Array.from(kinds, (k) => utoff[k] ?? Number.NaN);
  if (offsets.some(Number.isNaN)) return undefined;
  let rule: ((s: number) => number) | undefined;
  if (timeSize === 8 && b[end] === 0x0a) {
    const footer = b.toString('latin1', end + 1, b.indexOf(0x0a, end + 1));
    if (footer !== '') {
      rule = posixRule(footer);
      if (!rule) return undefined;
    }
  }
  const first = utoff[0] as number;
  const last = timecnt - 1;
  return {
    offsetMs(instant) {
      const s = Math.floor(instant / 1000);
      if (rule && (timecnt === 0 || s >= (times[last] as number))) return rule(s) * 1000;
      if (timecnt === 0 || s < (times[0] as number)) return first * 1000;
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((times[mid] as number) <= s) lo = mid;
        else hi = mid - 1;
      }
      return (offsets[lo] as number) * 1000;
    },
  };
}

function fromIntl(zone: string): ZoneOffsets | undefined {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return undefined;
  }
  return {
    offsetMs(instant) {
      const whole = Math.floor(instant / 1000) * 1000;
      const p: Record<string, number> = {};
      for (const part of f.formatToParts(new Date(whole))) if (part.type !== 'literal') p[part.type] = Number(part.value);
      return Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - whole;
    },
  };
}
