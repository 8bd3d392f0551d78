import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../../drivers/types.ts';
import { hourStart, localLabel } from '../../../gateway/metering/hours.ts';
import { Meter, type MeterSnapshot } from '../../../gateway/metering/meter.ts';

const T = (iso: string) => Date.parse(iso);
const reading = (deviceId: string, attribute: string, iso: string, value: number | boolean): DeviceEvent => ({
  kind: 'reading',
  deviceId,
  attribute,
  ts: T(iso),
  value,
});
const avail = (deviceId: string, iso: string, online: boolean): DeviceEvent => ({ kind: 'availability', deviceId, ts: T(iso), online });

function fold(meter: Meter, events: DeviceEvent[]) {
  return events.flatMap((e) => meter.add(e));
}

/** A meter over one fridge-like device; it is online from 10:00 UTC. */
function fridgeMeter(zone = 'UTC', start = '2026-05-04T10:00:00Z') {
  const meter = new Meter(zone, T(start));
  meter.track('f1', {
    energy: { role: 'energy', whPerUnit: 1000, unit: 'kWh', rolloverAt: undefined },
    counter: { role: 'counter', rolloverAt: 1000, unit: 'cups' },
    compressor: { role: 'on' },
    door: { role: 'door' },
    temperature: { role: 'temperature', unit: '°C' },
  });
  meter.add(avail('f1', start, true));
  return meter;
}

describe('Meter: hand-computed buckets', () => {
  it('energy from a kWh counter, attributed to the hour of the later reading', () => {
    const m = fridgeMeter();
    const closed = fold(m, [
      reading('f1', 'energy', '2026-05-04T10:00:00Z', 100),
      reading('f1', 'energy', '2026-05-04T10:30:00Z', 100.5),
      reading('f1', 'energy', '2026-05-04T11:10:00Z', 101.25),
    ]);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ deviceId: 'f1', start: T('2026-05-04T10:00:00Z'), end: T('2026-05-04T11:00:00Z'), gaps: [], offlineSeconds: 0 });
    expect(closed[0]?.metrics.energy).toEqual({ role: 'energy', unit: 'Wh', delta: 500, resets: 0, rollovers: 0, samples: 2 });
    const next = m.closeUntil(T('2026-05-04T12:00:00Z'));
    expect(next[0]?.metrics.energy).toMatchObject({ delta: 750, samples: 1 });
  });

  it('a counter that falls restarts from 0 (reset); one that wraps at its modulus rolls over', () => {
    const m = fridgeMeter();
    fold(
      m,
      [50, 52, 3, 5].map((v, i) => reading('f1', 'counter', `2026-05-04T10:${10 + i * 10}:00Z`, v)),
    );
    fold(
      m,
      [990, 998, 5].map((v, i) => reading('f1', 'counter', `2026-05-04T10:5${i}:00Z`, v)),
    );
    const [b] = m.closeUntil(T('2026-05-04T11:00:00Z'));
    // 50->52: 2, 52->3 reset: 3, 3->5: 2, 5->990: 985, 990->998: 8, 998->5 wraps at 1000: 2 + 5
    expect(b?.metrics.counter).toEqual({ role: 'counter', unit: 'cups', delta: 2 + 3 + 2 + 985 + 8 + 7, resets: 1, rollovers: 1, samples: 7 });
  });

  it('on-time and starts split exactly at the hour boundary', () => {
    const m = fridgeMeter();
    fold(m, [
      reading('f1', 'compressor', '2026-05-04T10:00:00Z', false),
      reading('f1', 'compressor', '2026-05-04T10:15:00Z', true),
      reading('f1', 'compressor', '2026-05-04T10:45:00Z', false),
      reading('f1', 'compressor', '2026-05-04T10:50:00Z', true),
    ]);
    const [h10] = m.closeUntil(T('2026-05-04T11:00:00Z'));
    expect(h10?.metrics.compressor).toEqual({ role: 'on', seconds: 40 * 60, starts: 2, samples: 4 });
    const [h11] = m.closeUntil(T('2026-05-04T12:00:00Z'));
    expect(h11?.metrics.compressor).toEqual({ role: 'on', seconds: 3600, starts: 0, samples: 0 });
  });

  it('offline time is a gap marker and counts as neither on nor off', () => {
    const m = fridgeMeter();
    fold(m, [
      reading('f1', 'door', '2026-05-04T10:05:00Z', true),
      avail('f1', '2026-05-04T10:20:00Z', false),
      avail('f1', '2026-05-04T10:35:00Z', true),
      reading('f1', 'door', '2026-05-04T10:40:00Z', true),
      reading('f1', 'door', '2026-05-04T10:41:30Z', false),
      avail('f1', '2026-05-04T10:50:00Z', false),
    ]);
    const [h10] = m.closeUntil(T('2026-05-04T11:00:00Z'));
    expect(h10?.metrics.door).toEqual({ role: 'door', openSeconds: 15 * 60 + 90, openings: 0, samples: 3 });
    expect(h10?.gaps).toEqual([
      { from: T('2026-05-04T10:20:00Z'), to: T('2026-05-04T10:35:00Z'), reason: 'offline' },
      { from: T('2026-05-04T10:50:00Z'), to: T('2026-05-04T11:00:00Z'), reason: 'offline' },
    ]);
    expect(h10?.offlineSeconds).toBe(25 * 60);
    m.allOffline(T('2026-05-04T11:20:00Z'), 'gateway'); // already offline: the reason stays
    const [h11] = m.closeUntil(T('2026-05-04T12:00:00Z'));
    expect(h11?.gaps).toEqual([{ from: T('2026-05-04T11:00:00Z'), to: T('2026-05-04T12:00:00Z'), reason: 'offline' }]);
  });

  it('temperature min / mean / max of the samples; null when there were none', () => {
    const m = fridgeMeter();
    fold(
      m,
      [4, 6, 5.5, 4.5].map((v, i) => reading('f1', 'temperature', `2026-05-04T10:1${i}:00Z`, v)),
    );
    const [h10] = m.closeUntil(T('2026-05-04T11:00:00Z'));
    expect(h10?.metrics.temperature).toEqual({ role: 'temperature', unit: '°C', min: 4, max: 6, mean: 5, samples: 4 });
    const [h11] = m.closeUntil(T('2026-05-04T12:00:00Z'));
    expect(h11?.metrics.temperature).toEqual({ role: 'temperature', unit: '°C', min: null, max: null, mean: null, samples: 0 });
  });

  it('a device first seen mid-hour has a gap before it', () => {
    const m = fridgeMeter();
    m.track('p2', { power: { role: 'on' } });
    fold(m, [avail('p2', '2026-05-04T10:40:00Z', true), reading('p2', 'power', '2026-05-04T10:40:00Z', true)]);
    const buckets = m.closeUntil(T('2026-05-04T11:00:00Z'));
    const p2 = buckets.find((b) => b.deviceId === 'p2');
    expect(p2?.gaps).toEqual([{ from: T('2026-05-04T10:00:00Z'), to: T('2026-05-04T10:40:00Z'), reason: 'offline' }]);
    expect(p2?.metrics.power).toMatchObject({ seconds: 20 * 60 });
  });
});

describe('Meter: local hours', () => {
  it('spring forward in Europe/Berlin: 23 one-hour buckets in the local day', () => {
    const m = new Meter('Europe/Berlin', T('2026-03-28T23:00:00Z')); // local midnight, +01:00
    m.track('d', { energy: { role: 'energy', whPerUnit: 1 } });
    const buckets = m.closeUntil(T('2026-03-29T22:00:00Z')); // next local midnight, +02:00
    expect(buckets).toHaveLength(23);
    expect(buckets.every((b) => b.end - b.start === 3_600_000)).toBe(true);
    expect(buckets.slice(1, 3).map((b) => b.localStart)).toEqual(['2026-03-29T01:00+01:00', '2026-03-29T03:00+02:00']);
  });

  it('fall back in Europe/Berlin: 25 buckets, 02:00 twice with different offsets', () => {
    const m = new Meter('Europe/Berlin', T('2026-10-24T22:00:00Z'));
    m.track('d', { energy: { role: 'energy', whPerUnit: 1 } });
    const labels = m.closeUntil(T('2026-10-25T23:00:00Z')).map((b) => b.localStart);
    expect(labels).toHaveLength(25);
    expect(labels.filter((l) => l.startsWith('2026-10-25T02:00'))).toEqual(['2026-10-25T02:00+02:00', '2026-10-25T02:00+01:00']);
  });

  it('half-hour zones start their buckets at :30 UTC', () => {
    expect(new Date(hourStart(T('2026-01-01T10:45:10.250Z'), 'Asia/Kolkata')).toISOString()).toBe('2026-01-01T10:30:00.000Z');
    expect(localLabel(T('2026-01-01T10:30:00Z'), 'Asia/Kolkata')).toBe('2026-01-01T16:00+05:30');
    expect(localLabel(T('2026-01-01T10:30:00Z'), 'America/St_Johns')).toBe('2026-01-01T07:00-03:30');
  });

  it('an outage longer than a week skips ahead instead of writing thousands of empty buckets', () => {
    const m = fridgeMeter();
    const buckets = m.closeUntil(T('2027-05-04T10:30:00Z'));
    expect(buckets).toHaveLength(24 * 7);
    expect(m.openStart).toBe(T('2027-05-04T10:00:00Z'));
  });
});

describe('Meter: replay from a snapshot gives the same buckets', () => {
  const attrs = ['energy', 'counter', 'compressor', 'door', 'temperature'] as const;
  const event = fc.record({
    minute: fc.integer({ min: 0, max: 179 }),
    attr: fc.constantFrom(...attrs, 'online', 'offline'),
    n: fc.integer({ min: 0, max: 1200 }),
  });
  it('splitting a stream at any point through a JSON snapshot changes nothing', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), fc.nat(), (raw, cutAt) => {
        const base = T('2026-05-04T10:00:00Z');
        const events: DeviceEvent[] = raw
          .sort((a, b) => a.minute - b.minute)
          .map((r) => {
            const ts = base + r.minute * 60_000;
            if (r.attr === 'online' || r.attr === 'offline') return { kind: 'availability', deviceId: 'f1', ts, online: r.attr === 'online' };
            const value = r.attr === 'compressor' || r.attr === 'door' ? r.n % 2 === 0 : r.n;
            return { kind: 'reading', deviceId: 'f1', attribute: r.attr, ts, value };
          });
        const cut = events.length === 0 ? 0 : cutAt % (events.length + 1);
        const whole = fridgeMeter();
        const expected = [...fold(whole, events), ...whole.closeUntil(T('2026-05-04T14:00:00Z'))];
        const first = fridgeMeter();
        const part1 = fold(first, events.slice(0, cut));
        const restored = new Meter('UTC', 0, JSON.parse(JSON.stringify(first.snapshot())) as MeterSnapshot);
        const got = [...part1, ...fold(restored, events.slice(cut)), ...restored.closeUntil(T('2026-05-04T14:00:00Z'))];
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
