import type { Command, DeviceDescription, DeviceEvent, Driver, DriverSink } from '../drivers/types.ts';
import type { RejectionCode } from '../drivers/errors.ts';
import { ErrorCodes, TrellisError } from './errors.ts';
import type { GatewayBus } from './core/events.ts';
import type { HistoryWriter } from './store/historyWriter.ts';
import type { DeviceRegistry } from './store/registry.ts';
import { StateCache } from './stateCache.ts';

export interface HubCounters {
  events: number;
  rejected: number;
  commands: number;
}

/**
 * Where drivers deliver: the hub checks decoded events against the registry, updates the state cache,
 * announces them on the bus (rules, LAN API, maintenance react at once) and hands them to the history
 * writer, which commits in batches. Commands go the other way: validated here, then routed to the
 * driver of the device's protocol. The hub knows no protocol.
 */
export class Hub implements DriverSink {
  readonly state = new StateCache();
  readonly #registry: DeviceRegistry;
  readonly #writer: HistoryWriter;
  readonly #drivers = new Map<string, Driver>();
  readonly #bus: GatewayBus;
  readonly #rejectedByDevice = new Map<string, number>();
  readonly #counters: HubCounters = { events: 0, rejected: 0, commands: 0 };

  constructor(deps: { registry: DeviceRegistry; writer: HistoryWriter; bus: GatewayBus }) {
    this.#registry = deps.registry;
    this.#writer = deps.writer;
    this.#bus = deps.bus;
  }

  addDriver(driver: Driver): void {
    this.#drivers.set(driver.protocol, driver);
  }

  describe(device: DeviceDescription): void {
    const registered = this.#registry.upsert(device);
    this.#bus.emit('device', registered);
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
    for (const e of accepted) this.#bus.emit('event', e);
    if (accepted.length > 0 || onDurable) this.#writer.append(accepted, onDurable);
  }

  rejected(deviceId: string | undefined, source: string, reason: string, code: RejectionCode = ErrorCodes.payload): void {
    this.#counters.rejected++;
    if (deviceId) this.#rejectedByDevice.set(deviceId, (this.#rejectedByDevice.get(deviceId) ?? 0) + 1);
    this.#bus.emit('rejected', { deviceId, source, reason, code });
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
    const allowed = spec.commands ?? spec.options;
    if (allowed && typeof cmd.value === 'string' && !allowed.includes(cmd.value)) {
      throw new TrellisError(ErrorCodes.command, `${cmd.deviceId}.${cmd.attribute}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(cmd.value)}`);
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
}
