import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { posixRule } from '../../../rules/posixTz.ts';
import { isTimeZone, parseTzif, systemTimeZone, zoneOffsets } from '../../../rules/zoneinfo.ts';
import { localTime } from '../../../rules/localTime.ts';
import { hourStart, localDayStart, localLabel } from '../../../gateway/metering/hours.ts';

const ZONEINFO = '/usr/share/zoneinfo';
const T = (iso: string) => Date.parse(iso);

/** One name for each distinct zone file (links and copies share their contents). */
function zoneNames(dir = '', seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const f of readdirSync(join(ZONEINFO, dir))) {
    const name = dir ? `${dir}/${f}` : f;
    if (name === 'posix' || name === 'right') continue;
    if (statSync(join(ZONEINFO, name)).isDirectory()) {
      out.push(...zoneNames(name, seen));
      continue;
    }
    const bytes = readFileSync(join(ZONEINFO, name));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (bytes.toString('latin1', 0, 4) === 'TZif' && !seen.has(digest)) out.push(name);
    seen.add(digest);
  }
  return out;
}

/** Footer rules of every kind: minutes, negative DST, two-hour DST, southern summers, -1h transitions. */
const RULE_ZONES = [
  'Europe/Berlin',
  'Europe/Dublin',
  'America/New_York',
  'America/Nuuk',
  'America/St_Johns',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Antarctica/Troll',
  'America/Santiago',
  'Asia/Jerusalem',
  'Pacific/Auckland',
];

function zdump(names: string[], years: string): string {
  return execFileSync('zdump', ['-v', '-c', years, ...names], { maxBuffer: 256 * 1024 * 1024 }).toString();
}

describe('time zones from the system tz database', () => {
  // glibc's zdump reads the same files with its own code: every transition it prints (the instant
  // before and the instant of the change) must have the offset it says. Every zone 1970-2040 (the
  // footers' rules take over from 2007 on in slim files and 2038 in fat ones), and zones with rules
  // of every kind to 2100.
  it('agrees with glibc zdump on both sides of every transition, in every zone', () => {
    const names = zoneNames();
    expect(names.length).toBeGreaterThan(300);
    const out = zdump(names, '1970,2040') + zdump(RULE_ZONES, '2040,2100');
    const line = /^(\S+)\s+\w{3} (\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\d+) UT = .* gmtoff=(-?\d+)$/;
    let checked = 0;
    const wrong: string[] = [];
    for (const l of out.split('\n')) {
      const m = line.exec(l);
      if (!m) continue;
      const [, zone, mon, day, time, year, gmtoff] = m as unknown as [string, string, string, string, string, string, string];
      const at = Date.parse(`${mon} ${day} ${year} ${time} UTC`);
      const got = zoneOffsets(zone)?.offsetMs(at);
      checked++;
      if (got !== Number(gmtoff) * 1000 && wrong.length < 10) wrong.push(`${l} -> ours ${got === undefined ? 'none' : got / 1000}`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(40_000);
  });

  it('reads offsets with minutes, negative DST and DST of two hours', () => {
    expect(zoneOffsets('Asia/Kathmandu')?.offsetMs(T('2026-06-01T00:00:00Z'))).toBe((5 * 60 + 45) * 60_000);
    // Dublin's winter time is its "DST" (IST-1GMT0,M10.5.0,M3.5.0/1)
    expect(zoneOffsets('Europe/Dublin')?.offsetMs(T('2095-01-10T12:00:00Z'))).toBe(0);
    expect(zoneOffsets('Europe/Dublin')?.offsetMs(T('2095-07-10T12:00:00Z'))).toBe(3_600_000);
    expect(zoneOffsets('Antarctica/Troll')?.offsetMs(T('2090-07-01T00:00:00Z'))).toBe(2 * 3_600_000);
    expect(zoneOffsets('Australia/Lord_Howe')?.offsetMs(T('2090-01-01T00:00:00Z'))).toBe(11 * 3_600_000);
  });

  it('reads the POSIX rules of a footer, and refuses what it cannot read', () => {
    const berlin = posixRule('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(berlin?.(T('2031-03-30T00:59:59Z') / 1000)).toBe(3600);
    expect(berlin?.(T('2031-03-30T01:00:00Z') / 1000)).toBe(7200);
    expect(berlin?.(T('2031-10-26T00:59:59Z') / 1000)).toBe(7200);
    expect(berlin?.(T('2031-10-26T01:00:00Z') / 1000)).toBe(3600);
    // Greenland: transitions at -2 and -1 hours local time
    const nuuk = posixRule('<-02>2<-01>,M3.5.0/-1,M10.5.0/0');
    expect(nuuk?.(T('2031-03-29T23:59:59Z') / 1000)).toBe(-7200);
    expect(nuuk?.(T('2031-03-30T01:00:00Z') / 1000)).toBe(-3600);
    // Julian days: J60 is March 1 in every year, 59 is February 29 or March 1
    const julian = posixRule('AAA0BBB,J60/0,J300/0');
    expect(julian?.(T('2032-02-29T23:59:59Z') / 1000)).toBe(0);
    expect(julian?.(T('2032-03-01T00:00:00Z') / 1000)).toBe(3600);
    const zeroBased = posixRule('AAA0BBB,59/0,300/0');
    expect(zeroBased?.(T('2032-02-29T00:00:00Z') / 1000)).toBe(3600);
    // DST all year (RFC 8536 3.3.1)
    expect(posixRule('EST5EDT,0/0,J365/25')?.(T('2040-06-01T00:00:00Z') / 1000)).toBe(-4 * 3600);
    expect(posixRule('EST5EDT,0/0,J365/25')?.(T('2040-01-01T12:00:00Z') / 1000)).toBe(-4 * 3600);
    for (const bad of [
      '',
      'CET',
      'CET-1CEST',
      'CET-1CEST,M13.5.0,M10.5.0',
      'CET-1CEST,M3.6.0,M10.5.0',
      'CET-1CEST,J0,J10',
      'CET-1CEST,M3.5.0',
      'CET-200',
      'CET-1 x',
    ])
      expect(posixRule(bad), bad).toBeUndefined();
  });

  it('refuses a damaged or cut-short file and leap-second data', () => {
    const berlin = readFileSync(join(ZONEINFO, 'Europe/Berlin'));
    expect(parseTzif(berlin)).toBeDefined();
    expect(parseTzif(berlin.subarray(0, 100))).toBeUndefined();
    expect(parseTzif(Buffer.from('not a zone file at all, but long enough to have a header'))).toBeUndefined();
    // a footer rule it cannot read: refused, not guessed
    const footer = berlin.lastIndexOf(0x0a, berlin.length - 2);
    expect(berlin.toString('latin1', footer)).toBe('\nCET-1CEST,M3.5.0,M10.5.0/3\n');
    expect(parseTzif(Buffer.concat([berlin.subarray(0, footer), Buffer.from('\nCET-1CEST,M3.5.0,M99.5.0/3\n')]))).toBeUndefined();
    const right = join(ZONEINFO, 'right/Europe/Berlin');
    if (statSync(right, { throwIfNoEntry: false })) expect(parseTzif(readFileSync(right))).toBeUndefined();
  });

  describe('names', () => {
    let dir: string | undefined;
    const saved = { TZ: process.env.TZ, TZDIR: process.env.TZDIR };
    afterEach(() => {
      for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });

    it('takes only zone names, never a path out of the tz database', () => {
      for (const name of ['../../etc/passwd', '/etc/passwd', 'Europe/../../../etc/hostname', 'Not/AZone', 'Europe', '', 'posix/Europe/Berlin'])
        expect(isTimeZone(name), name).toBe(false);
      expect(isTimeZone('Europe/Berlin')).toBe(true);
      expect(isTimeZone('UTC')).toBe(true);
    });

    it('falls back to Intl for a name without a file', () => {
      dir = mkdtempSync(join(tmpdir(), 'trellis-tzdir-'));
      process.env.TZDIR = dir;
      // $TZDIR is where the files are read
      writeFileSync(join(dir, 'Berlin_Copy'), readFileSync(join(ZONEINFO, 'Europe/Berlin')));
      expect(zoneOffsets('Berlin_Copy')?.offsetMs(T('2026-07-01T00:00:00Z'))).toBe(7_200_000);
      writeFileSync(join(dir, 'Broken'), 'TZif2 and then nothing');
      expect(isTimeZone('Broken')).toBe(false);
      // a spelling only ICU takes (no such file): Intl answers
      expect(zoneOffsets('AMERICA/PHOENIX')?.offsetMs(T('2026-07-01T00:00:00Z'))).toBe(-7 * 3_600_000);
    });

    it('finds the system zone from $TZ', () => {
      process.env.TZ = 'Asia/Tokyo';
      expect(systemTimeZone()).toBe('Asia/Tokyo');
      process.env.TZ = ':America/Sao_Paulo';
      expect(systemTimeZone()).toBe('America/Sao_Paulo');
      process.env.TZ = 'Etc/UTC';
      expect(systemTimeZone()).toBe('UTC');
      process.env.TZ = '../../etc/passwd';
      expect(isTimeZone(systemTimeZone())).toBe(true);
    });
  });

  it('gives the local clock the rules and the meter read', () => {
    // a Sunday in Berlin's summer, 23:30 UTC = 01:30 Monday local
    expect(localTime(T('2026-07-05T23:30:00Z'), 'Europe/Berlin')).toEqual({ minuteOfDay: 90, weekday: 1 });
    expect(new Date(hourStart(T('2026-03-29T01:30:00Z'), 'Asia/Kathmandu')).toISOString()).toBe('2026-03-29T01:15:00.000Z');
    expect(localLabel(T('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29T03:00+02:00');
    // the day of a DST change starts at local midnight, still in winter time
    expect(new Date(localDayStart('2026-03-29', 'Europe/Berlin')).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(localDayStart('2026-10-25', 'America/New_York')).toISOString()).toBe('2026-10-25T04:00:00.000Z');
  });
});
