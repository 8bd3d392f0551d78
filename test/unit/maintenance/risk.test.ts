import { describe, expect, it } from 'vitest';
import {
  atRisk,
  CABINET_CHANCE_DAYS,
  CHANCE_DAYS,
  DEFAULT_TICKET_RULE,
  type DeviceDay,
  leastSquares,
  normalCdf,
  overThreshold,
  riskWords,
  SERVICE_GRACE_DAYS,
  scoreDay,
  ticketAtOnce,
} from '../../../fleet/maintenance/risk.ts';

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

/** Eight espresso machines of one model over three weeks (gw/c0-c7), each day's line of duty against cups from `line`. */
function espressoMachines(line: (device: number, daysBefore: number) => Partial<DeviceDay>): DeviceDay[] {
  return Array.from({ length: 8 }, (_, i) =>
    Array.from({ length: 22 }, (_, k): DeviceDay => {
      const back = 21 - k;
      return { key: `gw/c${i}`, model: 'Brew 2', day: LAST - back * DAY, duty: 0.3, ...line(i, back) };
    }),
  ).flat();
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
    expect(overThreshold({ score: 6, etaDays: rule.etaDays, z: {}, load: undefined, failChance: undefined }, rule)).toBe(true);
    expect(overThreshold({ score: 6, etaDays: rule.etaDays + 5, z: {}, load: undefined, failChance: undefined }, rule)).toBe(false);
    expect(overThreshold({ score: 6, etaDays: undefined, z: {}, load: undefined, failChance: undefined }, rule)).toBe(false);
    expect(overThreshold({ score: rule.threshold - 0.5, etaDays: 0, z: {}, load: undefined, failChance: undefined }, rule)).toBe(false);
  });

  it("loads today's line of duty against cups with the busiest hour of the last two weeks, and tickets it at 120 % of the hour", () => {
    // espresso machines: 0.1 of the hour at rest and 0.012 a cup; their busiest hour, 50 cups, was 10 days ago
    const machines = (scaled: (back: number) => number) =>
      espressoMachines((i, back) => {
        const f = i === 2 ? scaled(back) : 1;
        return { dutyAtRest: 0.1 * f, dutyPerUnit: 0.012 * f, peakUnits: back === 10 ? 50 : 30 };
      });
    const healthy = scoreDay(
      machines(() => 1),
      LAST,
    ).find((r) => r.key === 'gw/c2');
    expect(healthy?.loadUnits).toBe(50);
    expect(healthy?.load).toBeCloseTo(0.1 + 0.012 * 50, 6);
    expect(overThreshold(healthy as NonNullable<typeof healthy>, DEFAULT_TICKET_RULE)).toBe(false);
    // scale has taken 45 % of the element's power: the same 50 cups would take 126 % of an hour (105 % is not yet a ticket)
    const scaling = scoreDay(
      machines((back) => (back === 0 ? 1.8 : 1)),
      LAST,
    ).find((r) => r.key === 'gw/c2');
    expect(scaling?.load).toBeCloseTo(1.26, 6);
    const slight = scoreDay(
      machines((back) => (back === 0 ? 1.5 : 1)),
      LAST,
    ).find((r) => r.key === 'gw/c2');
    expect(slight?.load).toBeCloseTo(1.05, 6);
    expect(overThreshold(slight as NonNullable<typeof slight>, DEFAULT_TICKET_RULE)).toBe(false);
    expect(overThreshold(scaling as NonNullable<typeof scaling>, DEFAULT_TICKET_RULE)).toBe(true);
    expect(riskWords(scaling as NonNullable<typeof scaling>)).toMatch(
      /busiest hour of the last two weeks \(50 units\) would now need its element 126 % of the hour$/,
    );
    // a busy hour 15 days ago is past the two weeks; a fridge without a counter has no load
    const old = scoreDay(
      machines(() => 1).map((d) => (d.day === LAST - 15 * DAY ? { ...d, peakUnits: 90 } : d)),
      LAST,
    ).find((r) => r.key === 'gw/c2');
    expect(old?.loadUnits).toBe(50);
    expect(
      scoreDay(
        fleet((_, __, d) => d),
        LAST,
      )[0]?.load,
    ).toBeUndefined();
  });

  it('gives the chance that a busy hour outruns a boiler losing power, projected on only while its descale request is overdue', () => {
    // espresso machines serving 90 cups an hour (0.1 of the hour at rest, 0.01 a cup); busiest hours 30 and 40 cups on alternate days
    const machines = (served: (back: number) => number, dueSince: number | undefined) =>
      espressoMachines((i, back) => ({
        dutyAtRest: 0.1,
        dutyPerUnit: 0.9 / (i === 2 ? served(back) : 90),
        peakUnits: back % 2 ? 30 : 40,
        serviceDueSince: i === 2 ? dueSince : undefined,
      }));
    const c2 = (days: DeviceDay[]) => scoreDay(days, LAST).find((r) => r.key === 'gw/c2') as NonNullable<ReturnType<typeof scoreDay>[number]>;
    const healthy = c2(machines(() => 90, undefined));
    expect(healthy.failChance).toBeLessThan(0.01);
    expect(overThreshold(healthy, DEFAULT_TICKET_RULE)).toBe(false);
    // scale takes 5 cups an hour a day, 60 left today: in 5 days 35, under the busiest hours
    const losing = (back: number) => 60 + 5 * back;
    const overdue = c2(machines(losing, LAST - (SERVICE_GRACE_DAYS + 3) * DAY));
    expect(overdue.failChance).toBeGreaterThan(0.9);
    expect(overThreshold(overdue, DEFAULT_TICKET_RULE)).toBe(true);
    expect(riskWords(overdue)).toMatch(
      new RegExp(`a (9\\d|100) % chance that a busy hour of the next ${CHANCE_DAYS} days asks more than its element will have$`),
    );
    // the same loss with the request just raised (its owner will descale it), or never raised: today's 60 cups, held
    for (const dueSince of [LAST - DAY, undefined]) {
      const held = c2(machines(losing, dueSince));
      expect(held.failChance).toBeGreaterThan(0.02);
      expect(held.failChance).toBeLessThan(0.3);
      expect(overThreshold(held, DEFAULT_TICKET_RULE)).toBe(false);
    }
    // under a week of busiest hours to go by, no chance
    expect(c2(machines(losing, LAST - 30 * DAY).map((d) => (d.day < LAST - 5 * DAY ? { ...d, peakUnits: undefined } : d))).failChance).toBeUndefined();
  });

  it('gives a cabinet whose trend stands out the chance that its busiest hours climb past its power within days, and none to one moving with the fleet', () => {
    // f3's duty cycle climbs past its peers' in its last week, and its busiest hours from 0.52 to 1 (0.08 a day)
    const climbing = (all: boolean) =>
      fleet((i, back, d) => {
        if (!all && i !== 3) return d;
        if (back > 6) return d;
        return { ...d, duty: (d.duty as number) + (all ? 0.2 : 0.04 * (7 - back)), dutyPeak: 0.52 + 0.08 * (6 - back) + ((back * 7) % 3) / 100 };
      });
    const risks = scoreDay(climbing(false), LAST);
    const f3 = risks.find((r) => r.key === 'gw/f3') as NonNullable<(typeof risks)[number]>;
    expect(f3.score).toBeGreaterThanOrEqual(4);
    expect(f3.chanceDays).toBe(CABINET_CHANCE_DAYS);
    expect(f3.failChance).toBeGreaterThan(DEFAULT_TICKET_RULE.chance);
    expect(overThreshold(f3, DEFAULT_TICKET_RULE)).toBe(true);
    expect(riskWords(f3)).toMatch(/chance that a busy hour of the next 3 days asks more than its element will have$/);
    // its peers, flat at 0.6: no chance worth a number
    expect(risks.find((r) => r.key === 'gw/f4')?.failChance).toBeUndefined();
    // the same climb in every cabinet (a heat wave): nobody stands out, nobody gets a chance
    expect(scoreDay(climbing(true), LAST).filter((r) => r.failChance !== undefined)).toEqual([]);
    // standing out with room to spare (busiest hours flat at 0.6): a small chance
    const flat = scoreDay(
      fleet((i, back, d) => (i === 3 && back <= 6 ? { ...d, duty: (d.duty as number) + 0.04 * (7 - back) } : d)),
      LAST,
    ).find((r) => r.key === 'gw/f3');
    expect(flat?.score).toBeGreaterThanOrEqual(4);
    expect(flat?.failChance).toBeLessThan(0.01);
  });

  it('opens a ticket at once for a temperature straying far while the element runs flat out, and on the days running for less', () => {
    const rule = DEFAULT_TICKET_RULE;
    const strays = (warmth: number) => ({ score: warmth, etaDays: undefined, z: { warmth }, load: undefined, failChance: undefined });
    expect(ticketAtOnce(strays(rule.urgentWarmth), rule)).toBe(true);
    expect(ticketAtOnce(strays(rule.urgentWarmth - 0.5), rule)).toBe(false);
    expect(overThreshold(strays(rule.urgentWarmth - 0.5), rule)).toBe(true);
    expect(ticketAtOnce({ ...strays(0), failChance: 1, load: 2 }, rule)).toBe(false);
    // at risk: at once, or over the threshold on the rule's days running (today and the days before)
    expect(atRisk(strays(rule.urgentWarmth), 0, rule)).toBe(true);
    expect(atRisk(strays(rule.warmth), rule.days - 2, rule)).toBe(false);
    expect(atRisk(strays(rule.warmth), rule.days - 1, rule)).toBe(true);
    expect(atRisk(strays(rule.warmth - 0.5), rule.days + 3, rule)).toBe(false);
  });

  it('has the standard normal distribution function', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });

  it('fits a least-squares line, and none when every x is the same', () => {
    const fit = leastSquares([
      [0, 1],
      [1, 3],
      [2, 5],
      [3, 7.5],
    ]);
    expect(fit?.slope).toBeCloseTo(2.15, 9);
    expect(fit?.intercept).toBeCloseTo(0.9, 9);
    expect(
      leastSquares([
        [2, 1],
        [2, 3],
      ]),
    ).toBeUndefined();
    expect(leastSquares([[2, 1]])).toBeUndefined();
  });
});
