import type { RejectionCode } from './errors.ts';

/**
 * The seam between protocols and the rest of Trellis. A driver turns wire bytes into `DeviceEvent`s and
 * `Command`s into wire bytes; the hub, store, rules, the LAN API and cloud sync only ever see
 * these types. Nothing here knows MQTT, serial or BLE.
 */

export type AttributeValue = number | boolean | string;

/**
 * Whether a name is one every plain object already answers to (`constructor`, `__proto__`): as an
 * attribute name it would read as present before it was declared, or be dropped, in the records
 * that key on it, so each door that takes names from a device refuses it.
 */
export const reservedName = (name: string): boolean => name in Object.prototype;
export type AttributeType = 'number' | 'boolean' | 'string';

/** What one attribute of a device is: its type, unit and whether commands may set it. */
export interface AttributeSpec {
  readonly type: AttributeType;
  readonly unit?: string | undefined;
  /** Home Assistant style class (temperature, power, energy, door, problem, ...). */
  readonly deviceClass?: string | undefined;
  /** HA state_class (measurement, total_increasing, ...): metering infers roles from it. */
  readonly stateClass?: string | undefined;
  readonly writable: boolean;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly step?: number | undefined;
  /** The name the device gives it ("Relay 1", "Target temperature"); the attribute id stays stable for rules. */
  readonly name?: string | undefined;
  /** The values it reports, where they are a fixed set (a select's options, a lock's states, HVAC modes). */
  readonly options?: readonly string[] | undefined;
  /** The values a command may set where they differ from what it reports (a lock: lock, unlock, open). */
  readonly commands?: readonly string[] | undefined;
  /** A button or scene: a command presses it (any value), and it reports nothing. */
  readonly momentary?: boolean | undefined;
}

/** A device as a driver describes it. Devices are data: a kind is a set of attributes. */
export interface DeviceDescription {
  readonly id: string;
  readonly name: string;
  readonly protocol: 'mqtt' | 'serial' | 'ble';
  /** The credential (MQTT username or client id) that owns the device; only it may publish for it. */
  readonly owner: string;
  readonly manufacturer?: string | undefined;
  readonly model?: string | undefined;
  readonly swVersion?: string | undefined;
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
}

interface EventBase {
  readonly deviceId: string;
  /** Milliseconds since the Unix epoch, stamped by the gateway on arrival. */
  readonly ts: number;
}

export interface ReadingEvent extends EventBase {
  readonly kind: 'reading';
  readonly attribute: string;
  readonly value: AttributeValue;
}

export interface AvailabilityEvent extends EventBase {
  readonly kind: 'availability';
  readonly online: boolean;
}

export interface FaultEvent extends EventBase {
  readonly kind: 'fault';
  /** Stable code of the fault, e.g. the attribute that raised it (`descale_needed`). */
  readonly code: string;
  readonly active: boolean;
  readonly message: string;
}

export interface ButtonEvent extends EventBase {
  readonly kind: 'button';
  readonly button: string;
  /** single, double, long, ... as the device reports it. */
  readonly action: string;
}

export type DeviceEvent = ReadingEvent | AvailabilityEvent | FaultEvent | ButtonEvent;

/** A request to set one attribute of one device. */
export interface Command {
  readonly deviceId: string;
  readonly attribute: string;
  readonly value: AttributeValue;
}

/** Per-driver counters; health and metrics read them. */
export interface DriverCounters {
  readonly messages: number;
  readonly rejected: number;
  readonly commandsSent: number;
  readonly [name: string]: number;
}

/** Where a driver delivers what it decoded. The hub implements it. */
export interface DriverSink {
  /** A device appeared or changed its description (new attribute, new name). */
  describe(device: DeviceDescription): void;
  /**
   * Decoded events. `onDurable`, when given, is called once they are committed to storage (or with an
   * error); drivers use it to acknowledge a device only after its data is safe.
   */
  ingest(events: readonly DeviceEvent[], onDurable?: (err?: Error) => void): void;
  /**
   * A payload was rejected; `reason` names the field and the source. `code` says what was refused:
   * a payload (the default) or a discovery config.
   */
  rejected(deviceId: string | undefined, source: string, reason: string, code?: RejectionCode): void;
}

/** The interface every protocol driver implements (MQTT, serial, BLE). */
export interface Driver {
  readonly protocol: DeviceDescription['protocol'];
  start(sink: DriverSink): Promise<void>;
  stop(): Promise<void>;
  /** Sends a command to the device. Rejects with a DriverError (TRELLIS_E_COMMAND) when it cannot. */
  send(command: Command): Promise<void>;
  counters(): DriverCounters;
}

/** Retained configuration messages (discovery and native) kept across restarts; the store implements it. */
export interface RetainedConfigStore {
  load(): Array<{ topic: string; owner: string; payload: string }>;
  save(topic: string, owner: string, payload: string): void;
  remove(topic: string): void;
}

/**
 * The highest counter accepted from each encrypted sensor, kept across restarts so a recorded packet
 * cannot be replayed after one; the store implements it. `sensor` is opaque: the driver names a sensor
 * by its address and its key, so a new key (a reset sensor, counting from 0 again) starts afresh.
 */
export interface ReplayCounters {
  last(sensor: string): number | undefined;
  accepted(sensor: string, counter: number): void;
}

/** The gateway's time, injected into every driver: events are stamped with it (tests may run it faster). */
export type Now = () => number;
