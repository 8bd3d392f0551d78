import { describe, expect, it } from 'vitest';
import { DEFAULT_TICKET_RULE, type DeviceDay, overThreshold, riskWords, scoreDay } from '../../../fleet/maintenance/risk.ts';

/**
 * The risk score on hand-made days: twelve fridges of one model over three weeks, each with its own
 * level and a little day-to-day noise, and a change in the last days of one of them.
 */
const DAY = 86_400_000;
const LAST = 30 * DAY;

function fleet(change: (device: number, daysBefore: number, d: DeviceDay) => DeviceDay): DeviceDay[] {
  const out: DeviceDay[] = [];
  for (let i = 0; i < 12; i++)
    for (let back = 21; back >= 0; back--) {
      const wobble = ((i * 7 + back * 3) % 5) / 100; // 0-0.04, the same for every run
      const base: DeviceDay = {
        key: `gw/f${i}`,
        model: 'CoolCab 400',
        day: LAST - back * DAY,
        duty: 0.4 + i / 100 + wobble,
        dutyPeak: 0.6 + wobble,
        recovery: 6 + wobble * 10,
        warmth: 0.4 + wobble,
      };
      out.push(change(i, back, base));
    }
  return out;
}

describe('the risk score', () => {
  it('scores a device whose duty cycle rises against its peers, and names the duty cycle', () => {
    const days = fleet((i, back, d) => (i === 3 && back <= 2 ? { ...d, duty: (d.duty as number) + 0.25, dutyPeak: 0.8 + (2 - back) * 0.05 } : d));
    const [top, next] = scoreDay(days, LAST);
    expect(top?.key).toBe('gw/f3');
    expect(top?.driver).toBe('duty');
    expect(top?.score).toBeGreaterThan(4);
    expect(next?.score).toBeLessThan(2);
    expect(riskWords(top as NonNullable<typeof top>)).toMatch(/^compressor or heater duty cycle \+2\d points against two weeks before/);
  });

  it('lets what moves the whole fleet cancel out (a heat wave raises every duty cycle)', () => {
    const days = fleet((_, back, d) => (back <= 2 ? { ...d, duty: (d.duty as number) + 0.25, dutyPeak: 0.85 } : d));
    expect(Math.max(...scoreDay(days, LAST).map((r) => r.score))).toBeLessThan(2);
  });

  it('counts a temperature that strays only while the element runs flat out: that is a ticket; the same swing with power to spare is not', () => {
    const straying = (saturated: boolean) => fleet((i, back, d) => (i === 5 && back <= 2 ? { ...d, warmth: 3.5, dutyPeak: saturated ? 1 : 0.7 } : d));
    const flatOut = scoreDay(straying(true), LAST).find((r) => r.key === 'gw/f5');
    expect(flatOut?.z.warmth).toBeGreaterThan(DEFAULT_TICKET_RULE.warmth);
    expect(overThreshold(flatOut as NonNullable<typeof flatOut>, DEFAULT_TICKET_RULE)).toBe(true);
    const spare = scoreDay(straying(false), LAST).find((r) => r.key === 'gw/f5');
    expect(spare?.z.warmth).toBeUndefined();
    expect(overThreshold(spare as NonNullable<typeof spare>, DEFAULT_TICKET_RULE)).toBe(false);
  });

  it("tickets a high score only when the busiest hours will run flat out within the rule's days", () => {
    const rule = DEFAULT_TICKET_RULE;
    expect(overThreshold({ score: 6, etaDays: 1, z: {} }, rule)).toBe(true);
    expect(overThreshold({ score: 6, etaDays: rule.etaDays + 5, z: {} }, rule)).toBe(false);
    expect(overThreshold({ score: 6, etaDays: undefined, z: {} }, rule)).toBe(false);
    expect(overThreshold({ score: rule.threshold - 0.5, etaDays: 0, z: {} }, rule)).toBe(false);
  });
});
