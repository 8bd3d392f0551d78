import type { AttributeSpec, DeviceEvent } from '../../drivers/types.ts';
import type { AlertSink } from '../alerts.ts';
import type { AlertInput, GatewayBus } from '../core/events.ts';
import type { MaintenanceData } from '../../protocol/index.ts';
import type { UsageBucket } from '../../protocol/index.ts';
import type { StoredBucket } from '../metering/service.ts';
import type { RegisteredDevice } from '../store/registry.ts';
import type { Baselines } from './baselines.ts';

export interface MaintenanceThresholds {
  /** compressor on-time over the online part of an hour */
  readonly dutyCycleMax: number;
  readonly startsPerHourMax: number;
  /** minutes for a cabinet to get back to its pre-opening temperature after the door closes */
  readonly recoveryMinutesMax: number;
  /** how close to the pre-opening temperature counts as recovered (°C) */
  readonly recoveryMarginC: number;
  /** hourly mean temperature vs the device's own 7-day mean (°C) */
  readonly temperatureDriftMaxC: number;
  /** hourly duty cycle vs the device's own 7-day mean (fraction points) */
  readonly dutyCycleDriftMax: number;
}

export interface MaintenanceDeps {
  readonly thresholds: MaintenanceThresholds;
  readonly device: (id: string) => RegisteredDevice | undefined;
  readonly baselines: Baselines;
  /** hears events and committed buckets; carries the signals (`maintenance`) */
  readonly bus: GatewayBus;
  readonly alerts: AlertSink;
}

const isCompressor = (name: string, spec: AttributeSpec | undefined) => /compressor/i.test(name) || spec?.deviceClass === 'running';
const isDoor = (spec: AttributeSpec | undefined) => spec?.type === 'boolean' && ['door', 'opening', 'window'].includes(spec.deviceClass ?? '');
const isCabinetTemperature = (spec: AttributeSpec | undefined) => spec?.type === 'number' && spec.deviceClass === 'temperature' && !spec.writable;
const MIN_ONLINE_S = 600;

/** The hourly quantity drift compares: an `on` metric's duty cycle, a temperature's mean. */
export function hourlyValue(b: UsageBucket, attribute: string): number | undefined {
  const m = b.metrics[attribute];
  const onlineS = (b.end - b.start) / 1000 - b.offlineSeconds;
  if (m?.role === 'on') return onlineS >= MIN_ONLINE_S ? round(m.seconds / onlineS) : undefined;
  if (m?.role === 'temperature') return m.mean ?? undefined;
  return undefined;
}

interface DoorWatch {
  /** temperature just before the door opened */
  before: number | undefined;
  closedAt: number | undefined;
  late: boolean;
}

/**
 * Maintenance signals computed on the gateway: compressor duty cycle and starts per hour and their
 * drift from the device's own 7-day baseline (from closed usage buckets), cabinet temperature drift,
 * temperature recovery time after a door closes, and descale-needed (from live events). Each signal is
 * reported as a record; crossing its threshold raises one alert (and one more only after it cleared).
 */
export class MaintenanceMonitor {
  readonly #d: MaintenanceDeps;
  readonly #exceeded = new Set<string>();
  readonly #doors = new Map<string, DoorWatch>();
  readonly #lastTemperature = new Map<string, number>();

  readonly name = 'maintenance';

  constructor(deps: MaintenanceDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#d.bus.on(this, 'event', (e) => this.onEvent(e));
    this.#d.bus.on(this, 'buckets', (b) => this.onBuckets(b));
  }

  stop(): void {
    this.#d.bus.off(this);
  }

  onBuckets(buckets: readonly StoredBucket[]): void {
    const t = this.#d.thresholds;
    for (const b of buckets) {
      const device = this.#d.device(b.deviceId);
      const onlineS = (b.end - b.start) / 1000 - b.offlineSeconds;
      if (!device || onlineS < MIN_ONLINE_S) continue;
      for (const [name, m] of Object.entries(b.metrics)) {
        if (m.role === 'on' && isCompressor(name, device.attributes[name])) {
          const duty = hourlyValue(b, name) as number;
          this.#report(
            b.deviceId,
            'duty_cycle',
            name,
            duty,
            'ratio',
            t.dutyCycleMax,
            b.end,
            'warning',
            `${pct(duty)} compressor duty cycle (limit ${pct(t.dutyCycleMax)})`,
          );
          const starts = round((m.starts * 3600) / onlineS);
          this.#report(
            b.deviceId,
            'starts_per_hour',
            name,
            starts,
            '1/h',
            t.startsPerHourMax,
            b.end,
            'warning',
            `${starts} compressor starts per hour (limit ${t.startsPerHourMax})`,
          );
          this.#drift(b, name, duty, 'ratio', t.dutyCycleDriftMax);
        } else if (m.role === 'temperature' && m.mean !== null && isCabinetTemperature(device.attributes[name])) {
          this.#drift(b, name, m.mean, '°C', t.temperatureDriftMaxC);
        }
      }
    }
  }

  /** Hub events, live. */
  onEvent(e: DeviceEvent): void {
    if (e.kind === 'fault') {
      if (!/descale/i.test(e.code)) return;
      this.#report(e.deviceId, 'descale_needed', e.code, e.active ? 1 : 0, 'bool', null, e.ts, 'warning', 'needs descaling');
      return;
    }
    if (e.kind !== 'reading') return;
    const spec = this.#d.device(e.deviceId)?.attributes[e.attribute];
    if (isDoor(spec)) this.#door(e.deviceId, e.value === true, e.ts);
    else if (isCabinetTemperature(spec) && typeof e.value === 'number') this.#temperature(e.deviceId, e.attribute, e.value, e.ts);
  }

  #door(deviceId: string, open: boolean, ts: number): void {
    const w = this.#doors.get(deviceId) ?? { before: undefined, closedAt: undefined, late: false };
    if (open) {
      if (w.closedAt === undefined) w.before = this.#lastTemperature.get(deviceId); // still recovering: keep the first baseline
      w.closedAt = undefined;
    } else if (w.before !== undefined) {
      w.closedAt = ts;
      w.late = false;
    }
    this.#doors.set(deviceId, w);
  }

  #temperature(deviceId: string, attribute: string, value: number, ts: number): void {
    const w = this.#doors.get(deviceId);
    const open = w !== undefined && w.before !== undefined && w.closedAt === undefined;
    if (!open) this.#lastTemperature.set(deviceId, value);
    if (!w || w.closedAt === undefined || w.before === undefined) return;
    const t = this.#d.thresholds;
    const minutes = round((ts - w.closedAt) / 60_000);
    const recovered = value <= w.before + t.recoveryMarginC;
    if (!recovered && (minutes <= t.recoveryMinutesMax || w.late)) return;
    const message = recovered
      ? `took ${minutes} min to cool down after the door closed (limit ${t.recoveryMinutesMax})`
      : `not cooled down ${minutes} min after the door closed (limit ${t.recoveryMinutesMax})`;
    if (recovered) {
      w.before = undefined;
      w.closedAt = undefined;
    } else w.late = true;
    this.#report(deviceId, 'recovery_time', attribute, minutes, 'min', t.recoveryMinutesMax, ts, 'warning', message);
  }

  #drift(b: StoredBucket, attribute: string, value: number, unit: string, max: number): void {
    const baseline = this.#d.baselines.mean(b.deviceId, attribute, b.start);
    this.#d.baselines.push(b.deviceId, attribute, b.start, value);
    if (baseline === undefined) return;
    const drift = round(value - baseline);
    this.#report(
      b.deviceId,
      'drift',
      attribute,
      drift,
      unit,
      max,
      b.end,
      'warning',
      `${attribute} is ${drift > 0 ? '+' : ''}${drift} ${unit} off its 7-day mean (limit ±${max})`,
      round(baseline),
    );
  }

  #report(
    deviceId: string,
    signal: MaintenanceData['signal'],
    attribute: string,
    value: number,
    unit: string,
    threshold: number | null,
    at: number,
    severity: AlertInput['severity'],
    message: string,
    baseline?: number,
  ): void {
    const exceeded = threshold === null ? value > 0 : Math.abs(value) > threshold;
    this.#d.bus.emit('maintenance', { deviceId, signal, attribute, value, unit, threshold, exceeded, ...(baseline !== undefined ? { baseline } : {}), at });
    const key = `${deviceId}\u0000${signal}\u0000${attribute}`;
    if (exceeded && !this.#exceeded.has(key)) {
      this.#exceeded.add(key);
      this.#d.alerts.raise({ source: 'maintenance', deviceId, severity, message: `${deviceId}: ${message}`, at });
    } else if (!exceeded) this.#exceeded.delete(key);
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const pct = (v: number) => `${Math.round(v * 100)}%`;
