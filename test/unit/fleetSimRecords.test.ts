import { describe, expect, it } from 'vitest';
import { CoffeeModel } from '../../firmware-sim/fleetSim/coffeeModel.ts';
import { FridgeModel } from '../../firmware-sim/fleetSim/fridgeModel.ts';
import { HeatPumpModel } from '../../firmware-sim/fleetSim/heatPumpModel.ts';
import { GatewayRecords } from '../../firmware-sim/fleetSim/records.ts';
import { Weather } from '../../firmware-sim/fleetSim/weather.ts';
import { schemaValidator } from '../helpers/cloudSubscriber.ts';

/** The simulated fleet's records are what docs/schemas publishes, checked as a provider's backend would (JSON Schema, not the fleet's zod). */
describe('the simulated fleet writes the published wire format', () => {
  it('every record of a day of a fridge, an espresso machine and a heat pump validates against its JSON Schema', () => {
    const valid = schemaValidator();
    const weather = new Weather(3);
    const start = Date.UTC(2026, 6, 1);
    const models = [
      new FridgeModel({ seed: 1, weather, busyness: 40, shopOffsetC: 1 }),
      new CoffeeModel({ seed: 2, busyness: 30 }),
      new HeatPumpModel({ seed: 3, weather, lossWPerK: 200 }),
    ];
    const g = new GatewayRecords('site-0001', 'coolco');
    const wire = [
      g.status('online', start),
      g.status('offline'),
      g.manifest(
        start,
        models.map((m, i) => ({ deviceRef: `d${i + 1}`, kind: m.kind, model: m.model, capabilities: m.capabilities })),
      ),
      g.health(start, 12, 3),
    ];
    for (let h = 0; h < 24; h++) for (const [i, m] of models.entries()) wire.push(...g.hour(`d${i + 1}`, m.hour(start + h * 3_600_000)));
    const kinds = new Set<string>();
    for (const w of wire) {
      const kind = w.topic.endsWith('/status') ? 'status' : (w.topic.split('/')[5] as string);
      kinds.add(kind);
      expect([w.topic, valid(`${kind}.json`, JSON.parse(w.payload))]).toEqual([w.topic, undefined]);
    }
    expect([...kinds].sort()).toEqual(['health', 'maintenance', 'manifest', 'status', 'usage']);
    const keys = wire.map((w) => (JSON.parse(w.payload) as { key?: string }).key).filter(Boolean);
    expect(new Set(keys).size).toBe(keys.length); // one idempotency key per record
  });

  it('a healthy fridge holds its cabinet at 3-5 °C and a leaking one runs longer each day until it cannot', () => {
    const weather = new Weather(5);
    const start = Date.UTC(2026, 5, 1);
    const day = 86_400_000;
    const healthy = new FridgeModel({ seed: 9, weather, busyness: 30, shopOffsetC: 0 });
    const leaking = new FridgeModel({
      seed: 9,
      weather: new Weather(5),
      busyness: 30,
      shopOffsetC: 0,
      degradation: { kind: 'refrigerant_leak', onset: start, rate: 1e-3 },
    });
    const dutyOf = (m: FridgeModel, d: number) => {
      let on = 0;
      let failed = false;
      let mean = 0;
      for (let h = 0; h < 24; h++) {
        const o = m.hour(start + d * day + h * 3_600_000);
        on += (o.metrics.compressor as { seconds: number }).seconds;
        mean += ((o.metrics.temperature as { mean: number }).mean ?? 0) / 24;
        failed ||= o.failed;
      }
      return { duty: on / 86_400, failed, mean };
    };
    const h = Array.from({ length: 40 }, (_, d) => dutyOf(healthy, d));
    const l = Array.from({ length: 40 }, (_, d) => dutyOf(leaking, d));
    expect(h.every((x) => !x.failed && x.mean > 3 && x.mean < 5.5)).toBe(true);
    expect(l[20]?.duty).toBeGreaterThan((l[2]?.duty ?? 1) * 1.2);
    expect(l.some((x) => x.failed)).toBe(true);
  });
});
