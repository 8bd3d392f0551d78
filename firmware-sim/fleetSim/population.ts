import { seededRandom } from '../clock.ts';
import { CoffeeModel } from './coffeeModel.ts';
import { FridgeModel } from './fridgeModel.ts';
import { HeatPumpModel } from './heatPumpModel.ts';
import type { Degradation, DeviceModel } from './model.ts';
import { GatewayRecords, type Wire } from './records.ts';
import { Weather } from './weather.ts';

const DAY = 86_400_000;

export interface SimulatedDevice {
  /** `<gatewayId>/<deviceRef>` */
  readonly key: string;
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly model: DeviceModel;
  /** the ground truth the predictor never sees */
  readonly degradation: Degradation | undefined;
}

export interface PopulationOptions {
  readonly seed: number;
  /** the first simulated day, ms */
  readonly start: number;
  readonly sites: number;
  /** devices per site (a shop's fridges and coffee machine, or a home's heat pump) */
  readonly devicesPerSite?: number;
  /** the share of fridges with a refrigerant leak, with a failing door seal, and of coffee machines with a scaling boiler */
  readonly leakShare?: number;
  readonly sealShare?: number;
  readonly scalingShare?: number;
  /** degradations begin between these days after `start` */
  readonly onsetDays?: readonly [number, number];
}

/**
 * A provider's fleet: shops (drinks fridges and an espresso machine, busy or quiet, door-heavy or
 * not, warm or cool) and homes (a heat pump, in a bigger or smaller house), in three weather regions.
 * A seeded share of devices gets a degradation that starts on a random day and worsens at a random
 * rate; when it ends in failure comes out of each model's physics, not out of a chosen date.
 */
export function population(o: PopulationOptions): SimulatedDevice[] {
  const rand = seededRandom(o.seed * 7919 + 1);
  const between = (a: number, b: number) => a + (b - a) * rand();
  const regions = [0, 1, 2].map((r) => new Weather(o.seed * 31 + r, 9 + 3 * r, 8 + r));
  const perSite = o.devicesPerSite ?? 3;
  const [onsetFrom, onsetTo] = o.onsetDays ?? [5, 50];
  const onset = () => o.start + Math.round(between(onsetFrom, onsetTo)) * DAY;
  const devices: SimulatedDevice[] = [];
  let n = 0;
  for (let s = 0; s < o.sites; s++) {
    const gatewayId = `site-${String(s + 1).padStart(4, '0')}`;
    const weather = regions[s % 3] as Weather;
    const home = rand() < 0.3;
    const busyness = Math.exp(between(Math.log(8), Math.log(60)));
    const shopOffsetC = between(-2, 3);
    for (let d = 0; d < (home ? 1 : perSite); d++) {
      const seed = o.seed * 1_000_003 + n++;
      const deviceRef = `d${d + 1}`;
      let model: DeviceModel;
      let degradation: Degradation | undefined;
      if (home) model = new HeatPumpModel({ seed, weather, lossWPerK: between(120, 260) });
      else if (d === perSite - 1) {
        if (rand() < (o.scalingShare ?? 0.12)) degradation = { kind: 'scaling', onset: onset(), rate: between(0.05, 0.25) };
        model = new CoffeeModel({ seed, busyness: busyness * 0.6, degradation });
      } else {
        const u = rand();
        if (u < (o.leakShare ?? 0.08)) degradation = { kind: 'refrigerant_leak', onset: onset(), rate: between(4e-4, 1.5e-3) };
        else if (u < (o.leakShare ?? 0.08) + (o.sealShare ?? 0.05)) degradation = { kind: 'door_seal', onset: onset(), rate: between(2.5e-3, 8e-3) };
        model = new FridgeModel({ seed, weather, busyness, shopOffsetC, degradation });
      }
      devices.push({ key: `${gatewayId}/${deviceRef}`, gatewayId, deviceRef, model, degradation });
    }
  }
  return devices;
}

/** A device as its gateway's manifest lists it. */
export function manifestEntry(d: SimulatedDevice): { deviceRef: string; kind: string; model: string; capabilities: readonly string[] } {
  return { deviceRef: d.deviceRef, kind: d.model.kind, model: d.model.model, capabilities: d.model.capabilities };
}

/** Each site's records for `provider` (keyed by gateway id) and the manifest each sends at `at`. */
export function siteRecords(devices: readonly SimulatedDevice[], provider: string, at: number): { records: Map<string, GatewayRecords>; manifests: Wire[] } {
  const records = new Map<string, GatewayRecords>();
  for (const d of devices) if (!records.has(d.gatewayId)) records.set(d.gatewayId, new GatewayRecords(d.gatewayId, provider));
  const manifests = [...records.values()].map((g) => g.manifest(at, devices.filter((d) => d.gatewayId === g.gatewayId).map(manifestEntry)));
  return { records, manifests };
}
