import { seededRandom } from '../clock.ts';
import { DayRhythm, type Degradation, type DeviceModel, daysInto, type HourOut, onSignals, round2 } from './model.ts';
import { poisson, type Weather } from './weather.ts';

export interface FridgeOptions {
  readonly seed: number;
  readonly weather: Weather;
  /** door openings per hour at the shop's peak (8-60: a door-heavy shop at the top) */
  readonly busyness: number;
  /** the shop's own warmth against the others (°C) */
  readonly shopOffsetC: number;
  readonly degradation?: Degradation | undefined;
}

const SET_C = 4;
const BAND_C = 1; // the thermostat switches at 3 and 5 °C
const CAPACITY_J_PER_K = 120_000; // cabinet and its contents
const UA_W_PER_K = 2; // through the walls and a good seal
const UA_OPEN_W_PER_K = 25;
const OPENING_J = 15_000; // warm air let in per opening
/** electrical power per watt of cooling */
const COMPRESSOR_W_PER_W = 0.45;
const FAN_W = 8;
const RECOVERY_MARGIN_C = 0.5;
const RECOVERY_MAX_MIN = 30;
const WARM_C = 8;
/** failed: the cabinet has been above 8 °C for 3 hours running (the stock is lost) */
const FAILED_AFTER_MIN = 180;

/**
 * A shop's drinks fridge, a minute at a time: heat leaks in through the walls (more through a
 * failing seal) and with every opening of the door (customers, by the hour of the day and the day
 * of the week), the compressor's thermostat holds 3-5 °C, and a refrigerant leak takes away cooling
 * power. Metered as the gateway does: compressor on-time and starts, door openings and open time,
 * cabinet temperature, energy; and the gateway's maintenance signals: duty cycle and starts each
 * hour, and the recovery time after each door closing.
 */
export class FridgeModel implements DeviceModel {
  readonly kind = 'fridge';
  readonly model = 'CoolCab 400';
  readonly capabilities = ['temperature', 'compressor', 'door', 'energy'] as const;
  readonly #o: FridgeOptions;
  readonly #rand: () => number;
  readonly #days: DayRhythm;
  #t = SET_C;
  #on = false;
  #energyWh = 0;
  #warmMinutes = 0;
  #alerted = false;
  #recovery: { before: number; closedAt: number | undefined; late: boolean } | undefined;
  /** the cooling power it was sized with: twice its peak load in a 28 °C shop */
  readonly #coolingW: number;

  constructor(options: FridgeOptions) {
    this.#o = options;
    this.#rand = seededRandom(options.seed);
    this.#days = new DayRhythm(this.#rand, 1.3, 0.6);
    const peakPerHour = options.busyness * 0.9;
    const dT = 28 - SET_C;
    this.#coolingW = 2 * (UA_W_PER_K * dT + (peakPerHour * OPENING_J) / 3600 + (UA_OPEN_W_PER_K * dT * peakPerHour * 13) / 3600);
  }

  hour(start: number): HourOut {
    const o = this.#o;
    const leak = o.degradation?.kind === 'refrigerant_leak' ? Math.min(0.95, o.degradation.rate * daysInto(o.degradation, start) ** 2) : 0;
    const seal = o.degradation?.kind === 'door_seal' ? o.degradation.rate * daysInto(o.degradation, start) ** 2 : 0;
    const dayFactor = this.#days.at(start);
    const hourOfDay = new Date(start).getUTCHours();
    const open = hourOfDay >= 7 && hourOfDay < 21;
    const traffic = open ? o.busyness * dayFactor * (1 - 0.5 * Math.cos(((hourOfDay - 7) / 14) * 2 * Math.PI)) * 0.6 : 0;
    let onS = 0;
    let starts = 0;
    let doorS = 0;
    let openings = 0;
    let tMin = Number.POSITIVE_INFINITY;
    let tMax = Number.NEGATIVE_INFINITY;
    let tSum = 0;
    let failed = false;
    const signals: HourOut['signals'] = [];
    const alerts: HourOut['alerts'] = [];
    for (let m = 0; m < 60; m++) {
      const at = start + (m + 1) * 60_000;
      const ambient = Math.min(32, Math.max(16, 20 + 0.35 * (o.weather.outdoor(at) - 15) + o.shopOffsetC));
      const n = traffic > 0 ? poisson(this.#rand, traffic / 60) : 0;
      const openS = Math.min(60, n * (6 + 8 * this.#rand()));
      const before = this.#t;
      if (this.#t > SET_C + BAND_C && !this.#on) {
        this.#on = true;
        starts++;
      } else if (this.#t < SET_C - BAND_C) this.#on = false;
      const ingressW = UA_W_PER_K * (1 + seal) * (ambient - this.#t) + (UA_OPEN_W_PER_K * (ambient - this.#t) * openS) / 60;
      const coolingW = this.#on ? this.#coolingW * (1 - leak) : 0;
      this.#t += ((ingressW - coolingW) * 60 + n * OPENING_J) / CAPACITY_J_PER_K;
      if (this.#on) onS += 60;
      this.#energyWh += ((this.#on ? COMPRESSOR_W_PER_W * this.#coolingW : 0) + FAN_W) / 60;
      doorS += openS;
      openings += n;
      tMin = Math.min(tMin, this.#t);
      tMax = Math.max(tMax, this.#t);
      tSum += this.#t;
      this.#watchRecovery(n > 0, before, at, signals);
      this.#warmMinutes = this.#t > WARM_C ? this.#warmMinutes + 1 : 0;
      if (this.#warmMinutes >= FAILED_AFTER_MIN) failed = true;
      if (this.#warmMinutes === 30 && !this.#alerted) {
        this.#alerted = true;
        alerts.push({ severity: 'warning', message: `cabinet above ${WARM_C} °C for 30 min`, at });
      } else if (this.#t < SET_C + BAND_C) this.#alerted = false;
    }
    const end = start + 3_600_000;
    signals.push(...onSignals('compressor', onS, starts, end, 0.85, 12));
    const energy = Math.floor(this.#energyWh);
    this.#energyWh -= energy;
    return {
      start,
      metrics: {
        compressor: { role: 'on', seconds: onS, starts, samples: 60 },
        door: { role: 'door', openSeconds: round2(doorS), openings, samples: 60 },
        temperature: { role: 'temperature', unit: '°C', min: round2(tMin), max: round2(tMax), mean: round2(tSum / 60), samples: 60 },
        energy: { role: 'energy', unit: 'Wh', delta: energy, resets: 0, rollovers: 0, samples: 60 },
      },
      signals,
      alerts,
      failed,
    };
  }

  /** The gateway's recovery watch: minutes from the door closing until the cabinet is back near where it was. */
  #watchRecovery(opened: boolean, before: number, at: number, signals: HourOut['signals']): void {
    const r = this.#recovery;
    if (opened) {
      if (!r || r.closedAt !== undefined) this.#recovery = { before: r?.before ?? before, closedAt: undefined, late: false };
      return;
    }
    if (!r) return;
    if (r.closedAt === undefined) {
      r.closedAt = at - 60_000;
      return;
    }
    const minutes = (at - r.closedAt) / 60_000;
    const recovered = this.#t <= r.before + RECOVERY_MARGIN_C;
    if (!recovered && (minutes <= RECOVERY_MAX_MIN || r.late)) return;
    signals.push({
      signal: 'recovery_time',
      attribute: 'temperature',
      value: minutes,
      unit: 'min',
      threshold: RECOVERY_MAX_MIN,
      exceeded: minutes > RECOVERY_MAX_MIN,
      at,
    });
    if (recovered) this.#recovery = undefined;
    else r.late = true;
  }
}
