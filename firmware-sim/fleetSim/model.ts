import type { MaintenanceData, Metric } from '../../protocol/index.ts';
import { gaussian } from './weather.ts';

/** What one simulated hour of a device produced, as its gateway would meter and monitor it. */
export interface HourOut {
  readonly start: number;
  readonly metrics: Record<string, Metric>;
  /** maintenance signals as the gateway computes them (protocol `maintenance` data without the device id) */
  readonly signals: Array<Omit<MaintenanceData, 'deviceId'>>;
  /** gateway alerts (a rule's): e.g. the cabinet too warm */
  readonly alerts: Array<{ readonly severity: 'warning' | 'critical'; readonly message: string; readonly at: number }>;
  /** the device stopped doing its job this hour (the model's own criterion, see each model) */
  readonly failed: boolean;
}

/** A seeded, physically modelled degradation that ends in failure. */
export interface Degradation {
  readonly kind: 'refrigerant_leak' | 'door_seal' | 'scaling';
  /** when it starts, ms */
  readonly onset: number;
  /** how fast it worsens: the fraction lost (or gained) per day, squared growth after onset */
  readonly rate: number;
}

/** A device's physics, advanced an hour at a time (in one-minute steps inside). */
export interface DeviceModel {
  readonly kind: string;
  readonly model: string;
  /** attribute names, as the manifest lists them */
  readonly capabilities: readonly string[];
  hour(start: number): HourOut;
}

/** Days since a degradation began (0 before it). */
export const daysInto = (d: Degradation | undefined, t: number) => (d && t > d.onset ? (t - d.onset) / 86_400_000 : 0);

/** Hourly `on` metric and the duty-cycle and starts signals the gateway derives from it. */
export function onSignals(attribute: string, onSeconds: number, starts: number, at: number, dutyMax: number, startsMax: number): HourOut['signals'] {
  const duty = Math.round((onSeconds / 3600) * 1000) / 1000;
  return [
    { signal: 'duty_cycle', attribute, value: duty, unit: 'ratio', threshold: dutyMax, exceeded: duty > dutyMax, at },
    { signal: 'starts_per_hour', attribute, value: starts, unit: '1/h', threshold: startsMax, exceeded: starts > startsMax, at },
  ];
}

export const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * How busy each day is against an ordinary weekday: Saturday's and Sunday's own factors, times a
 * day-to-day spread (log-normal, sigma 0.25), drawn once per day from the device's generator.
 */
export class DayRhythm {
  #day = -1;
  #factor = 1;

  constructor(
    readonly rand: () => number,
    readonly saturday: number,
    readonly sunday: number,
  ) {}

  /** The factor of the day `t` (ms) is in; days must come in order. */
  at(t: number): number {
    const day = Math.floor(t / 86_400_000);
    if (day !== this.#day) {
      this.#day = day;
      const weekday = new Date(t).getUTCDay();
      this.#factor = (weekday === 6 ? this.saturday : weekday === 0 ? this.sunday : 1) * Math.exp(0.25 * gaussian(this.rand));
    }
    return this.#factor;
  }
}
