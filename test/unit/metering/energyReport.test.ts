import { describe, expect, it } from 'vitest';
import { energyReport, periodRange } from '../../../gateway/metering/energyReport.ts';
import { localDayStart, localLabel } from '../../../gateway/metering/hours.ts';
import type { UsageBucket } from '../../../protocol/index.ts';

const TZ = 'Europe/Berlin';
const HOUR = 3_600_000;
const tariffs = { peak: { from: '17:00', to: '20:00' }, night: { from: '22:00', to: '06:00' } };

/** One closed hour of a device: `wh` of energy, optional cups and gap minutes. */
function bucket(deviceId: string, start: number, wh: number, o: { cups?: number; gapMin?: number } = {}): UsageBucket {
  return {
    deviceId,
    start,
    end: start + HOUR,
    localStart: localLabel(start, TZ),
    metrics: {
      energy: { role: 'energy', unit: 'Wh', delta: wh, resets: 0, rollovers: 0, samples: 12 },
      ...(o.cups !== undefined ? { cups_brewed: { role: 'counter' as const, delta: o.cups, resets: 0, rollovers: 0, samples: 3 } } : {}),
    },
    gaps: o.gapMin ? [{ from: start, to: start + o.gapMin * 60_000, reason: 'offline' as const }] : [],
    offlineSeconds: (o.gapMin ?? 0) * 60,
  };
}

describe('energy and costs', () => {
  it('finds the local day, the week from Monday and the month, a DST day with its 23 hours', () => {
    expect(periodRange('week', '2026-12-03', TZ)).toMatchObject({ from: '2026-11-30', to: '2026-12-07' });
    expect(periodRange('month', '2026-12-03', TZ)).toMatchObject({ from: '2026-12-01', to: '2027-01-01' });
    const spring = periodRange('day', '2026-03-29', TZ);
    expect((spring.end - spring.start) / HOUR).toBe(23);
    expect(localLabel(localDayStart('2026-03-29', TZ), TZ)).toBe('2026-03-29T00:00+01:00');
    expect(localLabel(localDayStart('2026-10-25', TZ), TZ)).toBe('2026-10-25T00:00+02:00');
  });

  it('prices each hour by its tariff window, totals per device and day, ranks the biggest consumers, sums counters', () => {
    const day = localDayStart('2026-12-01', TZ);
    const at = (h: number) => day + h * HOUR;
    const coffee = [bucket('coffee', at(8), 1000, { cups: 30 }), bucket('coffee', at(18), 500, { cups: 10 })]; // 1 kWh default, 0.5 kWh peak
    const fridge = Array.from({ length: 24 }, (_, h) => bucket('fridge', at(h), 100)); // 2.4 kWh: 3 h peak, 8 h night, 13 h default
    const r = energyReport({
      kind: 'day',
      date: '2026-12-01',
      timeZone: TZ,
      now: at(30),
      tariffs,
      prices: { currency: 'EUR', price: 0.25, prices: { peak: 0.4, night: 0.15 } },
      devices: [
        { id: 'coffee', name: 'Espresso machine', firstStart: at(-100), buckets: coffee },
        { id: 'fridge', name: 'Dairy fridge', firstStart: at(-100), buckets: fridge },
      ],
    });
    expect(r.devices.map((d) => [d.name, d.kwh, d.cost])).toEqual([
      ['Dairy fridge', 2.4, 0.57], // 0.3 kWh x 0.40 + 0.8 x 0.15 + 1.3 x 0.25 = 0.565
      ['Espresso machine', 1.5, 0.45], // 1 x 0.25 + 0.5 x 0.40
    ]);
    expect(r.devices[1]?.counters).toEqual({ cups_brewed: 40 });
    expect(r.devices[0]?.share).toBeCloseTo(2.4 / 3.9, 3);
    expect(r.total).toMatchObject({ kwh: 3.9, cost: 1.02 });
    expect(r.byTariff.find((t) => t.tariff === 'peak')).toMatchObject({ kwh: 0.8, cost: 0.32 });
    expect(r.days).toEqual([{ day: '2026-12-01', kwh: 3.9, cost: 1.02, missingHours: 22, hours: 48 }]); // the espresso machine said nothing for 22 hours
  });

  it('counts hours without a bucket and gaps as missing, never as zero, and not before a device existed or after now', () => {
    const day = localDayStart('2026-12-01', TZ);
    const at = (h: number) => day + h * HOUR;
    const plug = [bucket('plug', at(10), 200), bucket('plug', at(11), 100, { gapMin: 30 })]; // first metered at 10:00; 11:00 half missing; 12:00 missing
    const r = energyReport({
      kind: 'day',
      date: '2026-12-01',
      timeZone: TZ,
      now: at(13) + 5 * 60_000, // 13:05: the 13:00 hour is still open
      tariffs: {},
      prices: { currency: 'EUR', price: undefined, prices: {} },
      devices: [{ id: 'plug', name: 'Heat pump plug', firstStart: at(10), buckets: plug }],
    });
    expect(r.priced).toBe(false);
    expect(r.devices[0]).toMatchObject({ kwh: 0.3, cost: null, hours: 3, missingHours: 1.5 });
    expect(r.total).toMatchObject({ cost: null, missingHours: 1.5 });
  });
});
