import type { DeviceEvent } from '../../drivers/types.ts';
import type { Gap, Metric, UsageBucket } from '../../protocol/index.ts';
import { hourEnd, hourStart, localLabel } from './hours.ts';
import type { MeteredAttribute } from './roles.ts';

/** Everything the meter carries for one attribute: the value it last saw and this hour's sums. */
interface SeriesState {
  readonly spec: MeteredAttribute;
  readonly unit: string | undefined;
  /** counters: last counter value; on/door: 1 / 0 while known, undefined while unknown */
  last: number | undefined;
  /** on/door: since when `last` holds (clamped to the hour start at each close) */
  since: number;
  /** this hour: counters' increase, on/door ms, temperature sum */
  sum: number;
  /** this hour: counter resets, on/door transitions to true, temperature min */
  n1: number;
  /** this hour: counter rollovers, temperature max */
  n2: number;
  samples: number;
}

interface DeviceState {
  readonly series: Record<string, SeriesState>;
  offlineSince: number | undefined;
  offlineReason: Gap['reason'];
  gaps: Gap[];
}

export interface MeterSnapshot {
  readonly openStart: number;
  readonly devices: Record<string, { series: Record<string, SeriesState>; offlineSince: number | undefined; offlineReason: Gap['reason']; gaps: Gap[] }>;
}

/** Longest outage the meter fills with hourly gap buckets; beyond it (a clock jump) it skips ahead. */
const MAX_CATCH_UP_HOURS = 24 * 7;
const round = (v: number, digits: number) => Number(v.toFixed(digits));

/**
 * Folds device events into hourly usage buckets. Pure and deterministic: the same events in the same
 * order give the same buckets, which is what lets the gateway rebuild the open hour after a crash by
 * replaying the stored readings from its last checkpoint. Events stamped before the open hour (late by
 * a few ms at a boundary) count in the open hour.
 */
export class Meter {
  readonly #timeZone: string;
  #openStart: number;
  readonly #devices = new Map<string, DeviceState>();

  constructor(timeZone: string, now: number, snapshot?: MeterSnapshot) {
    this.#timeZone = timeZone;
    this.#openStart = snapshot?.openStart ?? hourStart(now, timeZone);
    for (const [id, d] of Object.entries(snapshot?.devices ?? {})) {
      for (const s of Object.values(d.series)) {
        if (s.spec.role === 'temperature' && s.samples === 0) [s.n1, s.n2] = [Infinity, -Infinity]; // JSON turned them into null
      }
      this.#devices.set(id, { ...d, gaps: [...d.gaps] });
    }
  }

  get openStart(): number {
    return this.#openStart;
  }

  /** Starts (or updates) metering a device's attributes; a new device counts as offline until it reports. */
  track(deviceId: string, attributes: Record<string, MeteredAttribute & { unit?: string | undefined }>): void {
    let d = this.#devices.get(deviceId);
    if (!d) {
      d = { series: {}, offlineSince: this.#openStart, offlineReason: 'offline', gaps: [] }; // no data before it was known
      this.#devices.set(deviceId, d);
    }
    for (const [name, spec] of Object.entries(attributes)) {
      if (d.series[name]?.spec.role === spec.role) continue;
      d.series[name] = {
        spec,
        unit: spec.unit,
        last: undefined,
        since: this.#openStart,
        sum: 0,
        n1: spec.role === 'temperature' ? Infinity : 0,
        n2: spec.role === 'temperature' ? -Infinity : 0,
        samples: 0,
      };
    }
  }

  isTracked(deviceId: string, attribute: string): boolean {
    return this.#devices.get(deviceId)?.series[attribute] !== undefined;
  }

  /** Folds one event; returns the buckets of every hour it closed (the event's hour is after them). */
  add(e: DeviceEvent): UsageBucket[] {
    const closed = e.ts >= hourEnd(this.#openStart) ? this.closeUntil(e.ts) : [];
    const d = this.#devices.get(e.deviceId);
    if (!d) return closed;
    const ts = Math.max(e.ts, this.#openStart);
    if (e.kind === 'availability') {
      if (e.online) this.#online(d, ts);
      else this.#offline(d, ts, 'offline');
    } else if (e.kind === 'reading') {
      const s = d.series[e.attribute];
      if (s) addReading(s, ts, e.value);
    }
    return closed;
  }

  /** Marks every device offline from `at` (the gateway stopped; `reason` says so in the gaps). */
  allOffline(at: number, reason: Gap['reason']): void {
    for (const d of this.#devices.values()) this.#offline(d, Math.max(at, this.#openStart), reason);
  }

  /** Closes every hour that ended at or before `now`, returning their buckets in time order. */
  closeUntil(now: number): UsageBucket[] {
    const out: UsageBucket[] = [];
    for (let hours = 0; now >= hourEnd(this.#openStart); hours++) {
      if (hours === MAX_CATCH_UP_HOURS) {
        this.#skipTo(hourStart(now, this.#timeZone));
        break;
      }
      const end = hourEnd(this.#openStart);
      for (const [id, d] of this.#devices) out.push(this.#close(id, d, end));
      this.#openStart = end;
    }
    return out;
  }

  snapshot(): MeterSnapshot {
    return { openStart: this.#openStart, devices: Object.fromEntries(this.#devices) };
  }

  #online(d: DeviceState, ts: number): void {
    if (d.offlineSince === undefined) return;
    if (ts > d.offlineSince) d.gaps.push({ from: d.offlineSince, to: ts, reason: d.offlineReason });
    d.offlineSince = undefined;
  }

  #offline(d: DeviceState, ts: number, reason: Gap['reason']): void {
    if (d.offlineSince !== undefined) return;
    for (const s of Object.values(d.series)) {
      if (s.spec.role !== 'on' && s.spec.role !== 'door') continue;
      accrue(s, ts);
      s.last = undefined; // state unknown while offline: neither on nor off time
    }
    d.offlineSince = ts;
    d.offlineReason = reason;
  }

  #close(deviceId: string, d: DeviceState, end: number): UsageBucket {
    const start = this.#openStart;
    const gaps = d.gaps;
    if (d.offlineSince !== undefined) gaps.push({ from: d.offlineSince, to: end, reason: d.offlineReason });
    d.gaps = [];
    if (d.offlineSince !== undefined) d.offlineSince = end;
    const metrics: Record<string, Metric> = {};
    for (const [name, s] of Object.entries(d.series)) {
      metrics[name] = closeSeries(s, end);
      resetHour(s, end);
    }
    const offlineMs = gaps.reduce((sum, g) => sum + (g.to - g.from), 0);
    return { deviceId, start, end, localStart: localLabel(start, this.#timeZone), metrics, gaps, offlineSeconds: round(offlineMs / 1000, 3) };
  }

  #skipTo(start: number): void {
    for (const d of this.#devices.values()) {
      for (const s of Object.values(d.series)) resetHour(s, start);
      d.gaps = [];
      if (d.offlineSince !== undefined) d.offlineSince = start;
    }
    this.#openStart = start;
  }
}

function addReading(s: SeriesState, ts: number, value: unknown): void {
  const role = s.spec.role;
  if (role === 'energy' || role === 'counter') {
    if (typeof value !== 'number') return;
    s.samples++;
    const last = s.last;
    s.last = value;
    if (last === undefined || value === last) return;
    if (value > last) s.sum += value - last;
    else if (isRollover(last, value, s.spec.rolloverAt)) {
      s.sum += (s.spec.rolloverAt as number) - last + value;
      s.n2++;
    } else {
      s.sum += value; // a reset: the counter started again from 0
      s.n1++;
    }
  } else if (role === 'temperature') {
    if (typeof value !== 'number') return;
    s.samples++;
    s.sum += value;
    if (value < s.n1) s.n1 = value;
    if (value > s.n2) s.n2 = value;
  } else {
    if (typeof value !== 'boolean') return;
    s.samples++;
    accrue(s, ts);
    if (value && s.last === 0) s.n1++; // first sight, or back from offline, is not a start
    s.last = value ? 1 : 0;
  }
}

/** A counter wrapped when it fell from its top tenth to its bottom tenth of a known modulus. */
function isRollover(last: number, value: number, modulus: number | undefined): boolean {
  return modulus !== undefined && modulus > 0 && last >= modulus * 0.9 && value <= modulus * 0.1;
}

/** on/door: adds the time since `since` to the hour's sum if the state was true, and moves `since`. */
function accrue(s: SeriesState, ts: number): void {
  if (ts > s.since && s.last === 1) s.sum += ts - s.since;
  if (ts > s.since) s.since = ts;
}

function closeSeries(s: SeriesState, end: number): Metric {
  const role = s.spec.role;
  if (role === 'energy') return { role, unit: 'Wh', delta: round(s.sum * (s.spec.whPerUnit ?? 1), 3), resets: s.n1, rollovers: s.n2, samples: s.samples };
  if (role === 'counter') return { role, ...(s.unit ? { unit: s.unit } : {}), delta: round(s.sum, 6), resets: s.n1, rollovers: s.n2, samples: s.samples };
  if (role === 'temperature') {
    const any = s.samples > 0;
    return {
      role,
      ...(s.unit ? { unit: s.unit } : {}),
      min: any ? s.n1 : null,
      max: any ? s.n2 : null,
      mean: any ? round(s.sum / s.samples, 3) : null,
      samples: s.samples,
    };
  }
  accrue(s, end);
  if (role === 'on') return { role, seconds: round(s.sum / 1000, 3), starts: s.n1, samples: s.samples };
  return { role, openSeconds: round(s.sum / 1000, 3), openings: s.n1, samples: s.samples };
}

function resetHour(s: SeriesState, start: number): void {
  const temperature = s.spec.role === 'temperature';
  s.sum = 0;
  s.n1 = temperature ? Infinity : 0;
  s.n2 = temperature ? -Infinity : 0;
  s.samples = 0;
  if (s.since < start) s.since = start;
}
