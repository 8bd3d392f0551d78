import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../../drivers/types.ts';
import type { MaintenanceData } from '../../../protocol/index.ts';
import { gatewayBus, type AlertInput } from '../../../gateway/core/events.ts';
import { Baselines } from '../../../gateway/maintenance/baselines.ts';
import { MaintenanceMonitor, hourlyValue } from '../../../gateway/maintenance/monitor.ts';
import type { Metric } from '../../../protocol/index.ts';
import type { StoredBucket } from '../../../gateway/metering/service.ts';
import { openDb, type Db } from '../../../gateway/store/db.ts';
import type { RegisteredDevice } from '../../../gateway/store/registry.ts';
import { TempDirs } from '../../helpers/tempDir.ts';
import { UsageStore } from '../../../gateway/store/usage.ts';
import { PersistentCounters } from '../../../gateway/store/counters.ts';
import { DeviceRegistry } from '../../../gateway/store/registry.ts';

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dirs.cleanup();
});

const HOUR = 3_600_000;
const T0 = Date.parse('2026-05-04T00:00:00Z');
const fridge: RegisteredDevice = {
  id: 'fridge',
  name: 'Fridge',
  protocol: 'mqtt',
  owner: 'fridge',
  seriesIds: {},
  attributes: {
    compressor: { type: 'boolean', deviceClass: 'running', writable: false },
    temperature: { type: 'number', deviceClass: 'temperature', unit: '°C', writable: false },
    door: { type: 'boolean', deviceClass: 'door', writable: false },
  },
};

function setup(thresholds: Partial<ConstructorParameters<typeof MaintenanceMonitor>[0]['thresholds']> = {}) {
  const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'normal' });
  open.push(db);
  const signals: MaintenanceData[] = [];
  const alerts: AlertInput[] = [];
  const bus = gatewayBus(({ err }) => {
    throw err;
  });
  bus.on(signals, 'maintenance', (s) => signals.push(s));
  const monitor = new MaintenanceMonitor({
    thresholds: {
      dutyCycleMax: 0.85,
      startsPerHourMax: 12,
      recoveryMinutesMax: 30,
      recoveryMarginC: 0.5,
      temperatureDriftMaxC: 2,
      dutyCycleDriftMax: 0.25,
      ...thresholds,
    },
    device: (id) => (id === 'fridge' ? fridge : undefined),
    baselines: new Baselines(new UsageStore(db, new DeviceRegistry(db), new PersistentCounters(db)), hourlyValue),
    bus,
    alerts: { raise: (a) => void alerts.push(a) },
  });
  return { monitor, signals, alerts };
}

let seq = 1;
function bucket(hour: number, metrics: Record<string, Metric>, offlineSeconds = 0): StoredBucket {
  const start = T0 + hour * HOUR;
  return { seq: seq++, deviceId: 'fridge', start, end: start + HOUR, localStart: '', metrics, gaps: [], offlineSeconds };
}
const on = (seconds: number, starts = 4): Metric => ({ role: 'on', seconds, starts, samples: 10 });
const temp = (mean: number): Metric => ({ role: 'temperature', min: mean, max: mean, mean, samples: 10 });

describe('MaintenanceMonitor', () => {
  it('compressor duty cycle: a signal every hour, one alert per crossing', () => {
    const { monitor, signals, alerts } = setup();
    for (const [h, seconds] of [
      [0, 3240],
      [1, 3240],
      [2, 1800],
      [3, 3300],
    ] as const)
      monitor.onBuckets([bucket(h, { compressor: on(seconds) })]);
    const duty = signals.filter((s) => s.signal === 'duty_cycle');
    expect(duty.map((s) => [s.value, s.exceeded])).toEqual([
      [0.9, true],
      [0.9, true],
      [0.5, false],
      [0.917, true],
    ]);
    expect(alerts.map((a) => a.message)).toEqual(['fridge: 90% compressor duty cycle (limit 85%)', 'fridge: 92% compressor duty cycle (limit 85%)']);
    expect(alerts[0]).toMatchObject({ source: 'maintenance', deviceId: 'fridge', severity: 'warning' });
  });

  it('starts per hour are scaled to the time the device was online', () => {
    const { monitor, signals } = setup();
    monitor.onBuckets([bucket(0, { compressor: on(900, 9) }, 1800)]);
    expect(signals.find((s) => s.signal === 'starts_per_hour')).toMatchObject({ value: 18, threshold: 12, exceeded: true, unit: '1/h' });
    monitor.onBuckets([bucket(1, { compressor: on(900, 9) }, 3300)]); // 5 minutes online: too little to judge
    expect(signals.filter((s) => s.signal === 'starts_per_hour')).toHaveLength(1);
  });

  it("drift from the device's own 7-day baseline, once 24 hours of it exist", () => {
    const { monitor, signals, alerts } = setup();
    for (let h = 0; h < 24; h++) monitor.onBuckets([bucket(h, { temperature: temp(4 + (h % 2) * 0.2) })]);
    expect(signals.filter((s) => s.signal === 'drift')).toHaveLength(0);
    monitor.onBuckets([bucket(24, { temperature: temp(7.1) })]);
    const drift = signals.filter((s) => s.signal === 'drift');
    expect(drift).toEqual([expect.objectContaining({ attribute: 'temperature', value: 3, baseline: 4.1, threshold: 2, exceeded: true, unit: '°C' })]);
    expect(alerts.map((a) => a.message)).toEqual(['fridge: temperature is +3 °C off its 7-day mean (limit ±2)']);
  });

  it('temperature recovery after the door closes: measured, and late recovery raises an alert', () => {
    const { monitor, signals, alerts } = setup({ recoveryMinutesMax: 10 });
    const r = (min: number, attribute: string, value: number | boolean): DeviceEvent => ({
      kind: 'reading',
      deviceId: 'fridge',
      attribute,
      value,
      ts: T0 + min * 60_000,
    });
    for (const e of [
      r(0, 'temperature', 4),
      r(1, 'door', true),
      r(2, 'temperature', 8),
      r(3, 'door', false),
      r(8, 'temperature', 6),
      r(11, 'temperature', 4.4),
    ])
      monitor.onEvent(e);
    expect(signals.filter((s) => s.signal === 'recovery_time')).toEqual([expect.objectContaining({ value: 8, unit: 'min', exceeded: false })]);
    for (const e of [r(20, 'door', true), r(21, 'door', false), r(25, 'temperature', 7), r(40, 'temperature', 6.5), r(45, 'temperature', 4.2)])
      monitor.onEvent(e);
    const rec = signals.filter((s) => s.signal === 'recovery_time').map((s) => [s.value, s.exceeded]);
    expect(rec).toEqual([
      [8, false],
      [19, true],
      [24, true],
    ]);
    expect(alerts.map((a) => a.message)).toEqual(['fridge: not cooled down 19 min after the door closed (limit 10)']);
  });

  it("descale-needed from the machine's fault raises one alert until it clears", () => {
    const { monitor, signals, alerts } = setup();
    const fault = (active: boolean, min: number): DeviceEvent => ({
      kind: 'fault',
      deviceId: 'fridge',
      code: 'descale_needed',
      active,
      message: 'Descale needed',
      ts: T0 + min * 60_000,
    });
    for (const e of [fault(true, 0), fault(true, 1), fault(false, 2), fault(true, 3)]) monitor.onEvent(e);
    expect(signals.map((s) => [s.signal, s.value])).toEqual([
      ['descale_needed', 1],
      ['descale_needed', 1],
      ['descale_needed', 0],
      ['descale_needed', 1],
    ]);
    expect(alerts).toHaveLength(2);
  });
});
