import { seededRandom } from '../clock.ts';
import { DayRhythm, type Degradation, type DeviceModel, daysInto, type HourOut, onSignals, round2 } from './model.ts';
import { poisson } from './weather.ts';

export interface CoffeeOptions {
  readonly seed: number;
  /** cups per hour at the morning peak (5-40) */
  readonly busyness: number;
  /** a scaling boiler: scale builds up faster (hard water) and the owner never descales */
  readonly degradation?: Degradation | undefined;
}

const SET_C = 95;
const BAND_C = 1;
const HEATER_W = 3000;
const BOILER_J_PER_K = 25_000; // 6 l of water
const LOSS_W_PER_K = 2;
const ROOM_C = 22;
const CUP_J = 70_000; // fresh water heated for one cup
const BREW_MIN_C = 88;
/** scale (arbitrary units) at which the machine asks to be descaled; a healthy owner does it within days */
const DESCALE_AT = 0.8;
/** failed: the boiler was below brewing temperature for 20 minutes of an hour in service */
const FAILED_COLD_MIN = 20;
const STEP_S = 10;

/**
 * A café's espresso machine, a minute at a time: a 3 kW element holds a 6-litre boiler at 95 °C (in 10-second steps)
 * against its standing losses and the fresh water each cup draws; scale on the element lowers how
 * much of its heat reaches the water, so the element runs longer for the same cups, and a machine
 * that is never descaled ends up unable to hold brewing temperature through a busy hour. A healthy
 * machine asks to be descaled (the `descale_needed` signal) and its owner does it within a few days.
 */
export class CoffeeModel implements DeviceModel {
  readonly kind = 'coffee_machine';
  readonly model = 'Barista Duo';
  readonly capabilities = ['boiler_temperature', 'heater', 'cups', 'energy', 'descale_needed'] as const;
  readonly #o: CoffeeOptions;
  readonly #rand: () => number;
  readonly #days: DayRhythm;
  #t = SET_C;
  #on = false;
  #scale: number;
  #descaleAsked: number | undefined;
  #energyWh = 0;

  constructor(options: CoffeeOptions) {
    this.#o = options;
    this.#rand = seededRandom(options.seed);
    this.#days = new DayRhythm(this.#rand, 1.2, 0.5);
    this.#scale = this.#rand() * DESCALE_AT;
  }

  hour(start: number): HourOut {
    const o = this.#o;
    const scaling = o.degradation?.kind === 'scaling';
    const dayFactor = this.#days.at(start);
    const h = new Date(start).getUTCHours();
    const inService = h >= 7 && h < 19;
    const profile = inService ? 0.35 + Math.exp(-(((h - 8.5) / 1.2) ** 2)) + 0.6 * Math.exp(-(((h - 12.5) / 1) ** 2)) : 0;
    const cupsPerMin = (o.busyness * dayFactor * profile) / 60;
    // scale per cup; a scaling boiler's hard water lays it down `rate` times faster, and more as it thickens
    const perCup = 0.0004 * (scaling ? 1 + (o.degradation?.rate ?? 0) * daysInto(o.degradation, start) : 1);
    const signals: HourOut['signals'] = [];
    let onS = 0;
    let starts = 0;
    let cups = 0;
    let tMin = Number.POSITIVE_INFINITY;
    let tMax = Number.NEGATIVE_INFINITY;
    let tSum = 0;
    let coldSteps = 0;
    for (let m = 0; m < 60; m++) {
      const n = cupsPerMin > 0 ? poisson(this.#rand, cupsPerMin) : 0;
      // each cup at its own moment within the minute
      const cupSteps = Array.from({ length: n }, () => Math.floor((this.#rand() * 60) / STEP_S));
      for (let step = 0; step < 60 / STEP_S; step++) {
        if (this.#t < SET_C - BAND_C && !this.#on) {
          this.#on = true;
          starts++;
        } else if (this.#t > SET_C + BAND_C) this.#on = false;
        const drawn = cupSteps.filter((c) => c === step).length;
        const efficiency = 1 / (1 + 0.6 * this.#scale ** 2);
        const inW = this.#on ? HEATER_W * efficiency : 0;
        this.#t = Math.min(100, this.#t + ((inW - LOSS_W_PER_K * (this.#t - ROOM_C)) * STEP_S - drawn * CUP_J) / BOILER_J_PER_K);
        if (this.#on) onS += STEP_S;
        if (inService && this.#t < BREW_MIN_C) coldSteps++;
        tMin = Math.min(tMin, this.#t);
        tMax = Math.max(tMax, this.#t);
      }
      this.#energyWh += n * 2; // the pump, 2 Wh a cup
      cups += n;
      this.#scale += n * perCup;
      tSum += this.#t;
    }
    this.#energyWh += (onS * HEATER_W) / 3600;
    const cold = (coldSteps * STEP_S) / 60;
    const end = start + 3_600_000;
    if (this.#scale >= DESCALE_AT && this.#descaleAsked === undefined) {
      this.#descaleAsked = end;
      signals.push({ signal: 'descale_needed', attribute: 'descale_needed', value: 1, unit: 'bool', threshold: null, exceeded: true, at: end });
    } else if (this.#descaleAsked !== undefined && !scaling && end - this.#descaleAsked > (1 + 3 * this.#rand()) * 86_400_000 && !inService) {
      this.#scale = 0.02 * this.#rand(); // descaled after closing time
      this.#descaleAsked = undefined;
      signals.push({ signal: 'descale_needed', attribute: 'descale_needed', value: 0, unit: 'bool', threshold: null, exceeded: false, at: end });
    }
    signals.push(...onSignals('heater', onS, starts, end, 0.9, 40));
    const energy = Math.floor(this.#energyWh);
    this.#energyWh -= energy;
    return {
      start,
      metrics: {
        heater: { role: 'on', seconds: onS, starts, samples: 60 },
        cups: { role: 'counter', unit: 'cups', delta: cups, resets: 0, rollovers: 0, samples: 60 },
        boiler_temperature: { role: 'temperature', unit: '°C', min: round2(tMin), max: round2(tMax), mean: round2(tSum / 60), samples: 60 },
        energy: { role: 'energy', unit: 'Wh', delta: energy, resets: 0, rollovers: 0, samples: 60 },
      },
      signals,
      alerts: cold >= 10 ? [{ severity: 'warning', message: `boiler below ${BREW_MIN_C} °C for ${Math.round(cold)} min`, at: end }] : [],
      failed: cold >= FAILED_COLD_MIN,
    };
  }
}
