import type { Command, DeviceDescription, DeviceEvent, Driver, DriverSink } from '../drivers/types.ts';
import { ErrorCodes, TrellisError } from './errors.ts';
import type { HistoryWriter } from './store/historyWriter.ts';
import type { DeviceRegistry, RegisteredDevice } from './store/registry.ts';
import { StateCache } from './stateCache.ts';

export interface Rejection {
  readonly deviceId: string | undefined;
  readonly source: string;
  readonly reason: string;
}

/** A notification for people (a rule's notify action, a rule stopped): the LAN API and cloud sync carry it. */
export interface HubAlert {
  /** Who raised it; rule alerts leave it out. */
  readonly source?: 'rule' | 'maintenance' | 'gateway' | undefined;
  readonly ruleId?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly message: string;
  readonly at: number;
}

export interface HubListeners {
  event: (event: DeviceEvent) => void;
  device: (device: RegisteredDevice) => void;
  rejected: (rejection: Rejection) => void;
  alert: (alert: HubAlert) => void;
}

type ListenerSets = { [K in keyof HubListeners]: Set<HubListeners[K]> };

export interface HubCounters {
  events: number;
  rejected: number;
  commands: number;
  listenerErrors: number;
}

/**
 * The event bus. Drivers deliver decoded events here; the hub checks them against the registry,
 * updates the state cache, tells subscribers (rules, LAN API, cloud sync) at once, and hands them to
 * the history writer, which commits in batches. Commands go the other way: validated here, then
 * routed to the driver of the device's protocol. The hub knows no protocol.
 */
export class Hub implements DriverSink {
  readonly state = new StateCache();
  readonly #registry: DeviceRegistry;
  readonly #writer: HistoryWriter;
  readonly #drivers = new Map<string, Driver>();
  readonly #listeners: ListenerSets = { event: new Set(), device: new Set(), rejected: new Set(), alert: new Set() };
  readonly #rejectedByDevice = new Map<string, number>();
  readonly #counters: HubCounters = { events: 0, rejected: 0, commands: 0, listenerErrors: 0 };

  constructor(registry: DeviceRegistry, writer: HistoryWriter) {
    this.#registry = registry;
    this.#writer = writer;
  }

  addDriver(driver: Driver): void {
    this.#drivers.set(driver.protocol, driver);
  }

  on<K extends keyof HubListeners>(kind: K, listener: HubListeners[K]): () => void {
    const set = this.#listeners[kind] as Set<HubListeners[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  describe(device: DeviceDescription): void {
    const registered = this.#registry.upsert(device);
    this.#emit('device', registered);
  }

  ingest(events: readonly DeviceEvent[], onDurable?: (err?: Error) => void): void {
    const accepted: DeviceEvent[] = [];
    for (const e of events) {
      const problem = this.#check(e);
      if (problem) {
        this.rejected(e.deviceId, `device ${e.deviceId}`, problem);
        continue;
      }
      if (e.kind === 'reading') {
        this.state.set(e.deviceId, e.attribute, e.value, e.ts);
        if (!this.state.isOnline(e.deviceId)) this.#markOnline(e.deviceId, e.ts, accepted);
      } else if (e.kind === 'availability') {
        if (this.state.isOnline(e.deviceId) === e.online) continue;
        this.state.setOnline(e.deviceId, e.online);
      }
      accepted.push(e);
    }
    this.#counters.events += accepted.length;
    for (const e of accepted) this.#emit('event', e);
    if (accepted.length > 0 || onDurable) this.#writer.append(accepted, onDurable);
  }

  rejected(deviceId: string | undefined, source: string, reason: string): void {
    this.#counters.rejected++;
    if (deviceId) this.#rejectedByDevice.set(deviceId, (this.#rejectedByDevice.get(deviceId) ?? 0) + 1);
    this.#emit('rejected', { deviceId, source, reason });
  }

  /** Publishes an alert to whoever listens (the alert store, the log, cloud sync). */
  alert(alert: HubAlert): void {
    this.#emit('alert', alert);
  }

  /** Validates a command against the device's attribute spec and hands it to the device's driver. */
  async command(cmd: Command): Promise<void> {
    const device = this.#registry.get(cmd.deviceId);
    if (!device) throw new TrellisError(ErrorCodes.command, `unknown device "${cmd.deviceId}"`);
    const spec = device.attributes[cmd.attribute];
    if (!spec) throw new TrellisError(ErrorCodes.command, `device "${cmd.deviceId}" has no attribute "${cmd.attribute}"`);
    if (!spec.writable) throw new TrellisError(ErrorCodes.command, `${cmd.deviceId}.${cmd.attribute} is read-only`);
    if (typeof cmd.value !== spec.type) {
      throw new TrellisError(ErrorCodes.command, `${cmd.deviceId}.${cmd.attribute}: expected a ${spec.type}, got ${JSON.stringify(cmd.value)}`);
    }
    if (typeof cmd.value === 'number' && ((spec.min !== undefined && cmd.value < spec.min) || (spec.max !== undefined && cmd.value > spec.max))) {
      throw new TrellisError(ErrorCodes.command, `${cmd.deviceId}.${cmd.attribute}: ${cmd.value} is outside ${spec.min ?? '-inf'}..${spec.max ?? 'inf'}`);
    }
    const driver = this.#drivers.get(device.protocol);
    if (!driver) throw new TrellisError(ErrorCodes.command, `no ${device.protocol} driver is running`);
    this.#counters.commands++;
    await driver.send(cmd);
  }

  drivers(): Driver[] {
    return [...this.#drivers.values()];
  }

  counters(): Readonly<HubCounters> {
    return { ...this.#counters };
  }

  rejectedFor(deviceId: string): number {
    return this.#rejectedByDevice.get(deviceId) ?? 0;
  }

  #markOnline(deviceId: string, ts: number, into: DeviceEvent[]): void {
    this.state.setOnline(deviceId, true);
    into.push({ kind: 'availability', deviceId, ts, online: true });
  }

  #check(e: DeviceEvent): string | undefined {
    const device = this.#registry.get(e.deviceId);
    if (!device) return 'unknown device (not announced yet)';
    if (e.kind !== 'reading') return undefined;
    const spec = device.attributes[e.attribute];
    if (!spec) return `unknown attribute "${e.attribute}"`;
    if (typeof e.value !== spec.type) return `${e.attribute}: expected a ${spec.type}, got ${JSON.stringify(e.value)}`;
    if (typeof e.value === 'number' && !Number.isFinite(e.value)) return `${e.attribute}: expected a finite number`;
    return undefined;
  }

  #emit<K extends keyof HubListeners>(kind: K, arg: Parameters<HubListeners[K]>[0]): void {
    for (const listener of this.#listeners[kind]) {
      try {
        (listener as (a: typeof arg) => void)(arg);
      } catch {
        this.#counters.listenerErrors++;
      }
    }
  }
}
