import { seededRandom } from '../clock.ts';
import { type DeviceModel, type HourOut, onSignals, round2 } from './model.ts';
import { gaussian, type Weather } from './weather.ts';

export interface HeatPumpOptions {
  readonly seed: number;
  readonly weather: Weather;
  /** the house's heat loss (W per K between inside and out): 120-260 */
  readonly lossWPerK: number;
}

const INSIDE_C = 20;
const CAPACITY_W = 8000;
/** below this share of its capacity the compressor cannot modulate down and cycles on and off */
const MIN_MODULATION = 0.3;

/**
 * A home's air-to-water heat pump, an hour at a time: the house loses heat in proportion to how
 * cold it is outside (less the sun and the people in it), the heating curve sets the flow
 * temperature from the outdoor temperature, the efficiency (COP) falls as it gets colder, and below
 * its smallest modulation the compressor cycles. Healthy only: its duty cycle follows the weather,
 * which is what a predictor must not mistake for a fault.
 */
export class HeatPumpModel implements DeviceModel {
  readonly kind = 'heat_pump';
  readonly model = 'AirSource 8';
  readonly capabilities = ['compressor', 'flow_temperature', 'energy'] as const;
  readonly #o: HeatPumpOptions;
  readonly #rand: () => number;
  #energyWh = 0;

  constructor(options: HeatPumpOptions) {
    this.#o = options;
    this.#rand = seededRandom(options.seed);
  }

  hour(start: number): HourOut {
    const o = this.#o;
    const outdoor = o.weather.outdoor(start + 1_800_000);
    const gainsW = 400 + 150 * gaussian(this.#rand);
    const demandW = Math.max(0, o.lossWPerK * (INSIDE_C - outdoor) - gainsW);
    const load = Math.min(1, demandW / CAPACITY_W);
    const flow = Math.min(55, 25 + 0.8 * Math.max(0, INSIDE_C - outdoor));
    const cop = Math.max(1.6, Math.min(5.5, 0.45 * ((flow + 273.15) / Math.max(5, flow - outdoor))));
    // cycling below the minimum modulation: on at MIN_MODULATION for a share of the hour
    const onShare = load === 0 ? 0 : load < MIN_MODULATION ? load / MIN_MODULATION : 1;
    const starts = load === 0 ? 0 : load < MIN_MODULATION ? Math.max(1, Math.round(onShare * 4 + this.#rand())) : 0;
    const onS = Math.round(onShare * 3600);
    this.#energyWh += demandW / cop + 15;
    const energy = Math.floor(this.#energyWh);
    this.#energyWh -= energy;
    const end = start + 3_600_000;
    return {
      start,
      metrics: {
        compressor: { role: 'on', seconds: onS, starts, samples: 60 },
        flow_temperature: { role: 'temperature', unit: '°C', min: round2(flow - 1), max: round2(flow + 1), mean: round2(flow), samples: 60 },
        energy: { role: 'energy', unit: 'Wh', delta: energy, resets: 0, rollovers: 0, samples: 60 },
      },
      // the duty cycle that matters for a heat pump is its modulation, not the on-time
      signals: onSignals('compressor', Math.round(load * 3600), starts, end, 0.95, 6),
      alerts: [],
      failed: false,
    };
  }
}
