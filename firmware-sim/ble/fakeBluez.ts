import dbus from 'dbus-next';

/**
 * A simulated BlueZ (org.bluez) on a private bus, enough for unmodified node-ble: the adapter,
 * devices that appear when discovery starts, advertisement ServiceData that changes over time, and
 * GATT services and characteristics with read, write and notify. Tests can drop a device, or stop and
 * restart the whole service (a BlueZ restart).
 */
const { Interface, ACCESS_READ, ACCESS_READWRITE } = dbus.interface;
const { Variant } = dbus;
const ro = (signature: string) => ({ signature, access: ACCESS_READ as dbus.PropertyAccess });
const rw = (signature: string) => ({ signature, access: ACCESS_READWRITE as dbus.PropertyAccess });

export interface SimCharacteristic {
  readonly uuid: string;
  readonly flags: string[];
  value: Buffer;
  onWrite?: (value: Buffer) => void;
}

export interface SimBleDevice {
  readonly address: string;
  readonly name: string;
  rssi?: number;
  /** uuid -> bytes, e.g. BTHome under 0000fcd2-0000-1000-8000-00805f9b34fb */
  serviceData?: Record<string, Buffer>;
  /** the service UUIDs it advertises; default: its GATT services' */
  uuids?: string[];
  services?: Array<{ uuid: string; characteristics: SimCharacteristic[] }>;
}

class AgentManager1 extends Interface {
  RegisterAgent(): void {}
  UnregisterAgent(): void {}
  RequestDefaultAgent(): void {}
}
AgentManager1.configureMembers({
  methods: { RegisterAgent: { inSignature: 'os' }, UnregisterAgent: { inSignature: 'o' }, RequestDefaultAgent: { inSignature: 'o' } },
});

class Adapter1 extends Interface {
  Address = '00:AA:01:00:00:01';
  AddressType = 'public';
  Name = 'hci0';
  Alias = 'hci0';
  Powered: boolean;
  Discovering = false;
  constructor(
    private readonly onDiscover: () => void,
    powered: boolean,
  ) {
    super('org.bluez.Adapter1');
    this.Powered = powered;
  }
  /** The last filter the client set (Transport, DuplicateData, ...), unwrapped from its variants. */
  filter: Record<string, unknown> = {};
  SetDiscoveryFilter(filter: Record<string, { value: unknown }>): void {
    this.filter = Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v.value]));
  }
  StartDiscovery(): void {
    if (!this.Powered) throw new dbus.DBusError('org.bluez.Error.NotReady', 'Resource Not Ready');
    this.Discovering = true;
    Interface.emitPropertiesChanged(this, { Discovering: true }, []);
    setTimeout(() => this.onDiscover(), 20);
  }
  StopDiscovery(): void {
    this.Discovering = false;
    Interface.emitPropertiesChanged(this, { Discovering: false }, []);
  }
  RemoveDevice(): void {}
}
Adapter1.configureMembers({
  properties: { Address: ro('s'), AddressType: ro('s'), Name: ro('s'), Alias: rw('s'), Powered: rw('b'), Discovering: ro('b') },
  methods: { SetDiscoveryFilter: { inSignature: 'a{sv}' }, StartDiscovery: {}, StopDiscovery: {}, RemoveDevice: { inSignature: 'o' } },
});

const serviceDataVariant = (d: Record<string, Buffer> | undefined) => Object.fromEntries(Object.entries(d ?? {}).map(([k, v]) => [k, new Variant('ay', v)]));

class Device1 extends Interface {
  Address: string;
  AddressType = 'random';
  Name: string;
  Alias: string;
  RSSI: number;
  Paired = false;
  Connected = false;
  ServicesResolved = false;
  Adapter = '/org/bluez/hci0';
  ServiceData: Record<string, unknown>;
  UUIDs: string[];
  constructor(
    readonly spec: SimBleDevice,
    private readonly onConnect: () => void,
  ) {
    super('org.bluez.Device1');
    this.Address = spec.address;
    this.Name = spec.name;
    this.Alias = spec.name;
    this.RSSI = spec.rssi ?? -60;
    this.ServiceData = serviceDataVariant(spec.serviceData);
    this.UUIDs = spec.uuids ?? (spec.services ?? []).map((s) => s.uuid);
  }
  Connect(): void {
    if (!this.spec.services) throw new dbus.DBusError('org.bluez.Error.NotSupported', 'not connectable');
    this.onConnect();
    this.Connected = true;
    Interface.emitPropertiesChanged(this, { Connected: true }, []);
    setTimeout(() => {
      this.ServicesResolved = true;
      Interface.emitPropertiesChanged(this, { ServicesResolved: true }, []);
    }, 10);
  }
  Disconnect(): void {
    this.Connected = false;
    this.ServicesResolved = false;
    Interface.emitPropertiesChanged(this, { Connected: false, ServicesResolved: false }, []);
  }
  Pair(): void {}
  CancelPair(): void {}
  advertise(serviceData: Record<string, Buffer>): void {
    this.ServiceData = serviceDataVariant(serviceData);
    Interface.emitPropertiesChanged(this, { ServiceData: this.ServiceData }, []);
  }
}
Device1.configureMembers({
  properties: {
    Address: ro('s'),
    AddressType: ro('s'),
    Name: ro('s'),
    Alias: ro('s'),
    RSSI: ro('n'),
    Paired: ro('b'),
    Connected: ro('b'),
    ServicesResolved: ro('b'),
    Adapter: ro('o'),
    ServiceData: ro('a{sv}'),
    UUIDs: ro('as'),
  },
  methods: { Connect: {}, Disconnect: {}, Pair: {}, CancelPair: {} },
});

class GattService1 extends Interface {
  Primary = true;
  constructor(
    public UUID: string,
    public Device: string,
  ) {
    super('org.bluez.GattService1');
  }
}
GattService1.configureMembers({ properties: { UUID: ro('s'), Primary: ro('b'), Device: ro('o') } });

class GattCharacteristic1 extends Interface {
  UUID: string;
  Flags: string[];
  Value: Buffer;
  Notifying = false;
  constructor(
    readonly spec: SimCharacteristic,
    public Service: string,
  ) {
    super('org.bluez.GattCharacteristic1');
    this.UUID = spec.uuid;
    this.Flags = spec.flags;
    this.Value = spec.value;
  }
  ReadValue(): Buffer {
    return this.spec.value;
  }
  WriteValue(data: Buffer): void {
    this.spec.value = Buffer.from(data);
    this.spec.onWrite?.(this.spec.value);
  }
  StartNotify(): void {
    this.Notifying = true;
  }
  StopNotify(): void {
    this.Notifying = false;
  }
  push(value: Buffer): void {
    this.spec.value = value;
    this.Value = value;
    if (this.Notifying) Interface.emitPropertiesChanged(this, { Value: value }, []);
  }
}
GattCharacteristic1.configureMembers({
  properties: { UUID: ro('s'), Service: ro('o'), Flags: ro('as'), Value: ro('ay'), Notifying: ro('b') },
  methods: { ReadValue: { inSignature: 'a{sv}', outSignature: 'ay' }, WriteValue: { inSignature: 'aya{sv}' }, StartNotify: {}, StopNotify: {} },
});

export class FakeBluez {
  #bus: dbus.MessageBus | undefined;
  readonly #devices = new Map<string, Device1>();
  readonly #chars = new Map<string, GattCharacteristic1>();

  /** The adapter as the last start made it (tests read `Powered` and `filter`). */
  adapter: { Powered: boolean; filter: Record<string, unknown> } | undefined;

  constructor(
    readonly busAddress: string,
    readonly specs: SimBleDevice[],
    readonly options: { powered?: boolean } = {},
  ) {}

  async start(): Promise<void> {
    const bus = dbus.sessionBus({ busAddress: this.busAddress });
    this.#bus = bus;
    const adapterPath = '/org/bluez/hci0';
    bus.export('/org/bluez', new AgentManager1('org.bluez.AgentManager1'));
    const adapter = new Adapter1(() => this.#discover(bus, adapterPath), this.options.powered ?? true);
    this.adapter = adapter;
    bus.export(adapterPath, adapter);
    await bus.requestName('org.bluez', 0);
  }

  /** Stops answering (BlueZ exits); `start()` brings it back with the same devices. */
  stop(): void {
    // Messages already on the wire would still be handled after disconnect(), and dbus-next answers
    // them on the closed stream by throwing from its message listener (an uncaught error when the
    // gateway calls in at that moment): stop handling them first. `_connection` is dbus-next's own.
    (this.#bus as unknown as { _connection?: { removeAllListeners(event: string): void } } | undefined)?._connection?.removeAllListeners('message');
    this.#bus?.disconnect();
    this.#bus = undefined;
    this.#devices.clear();
    this.#chars.clear();
  }

  /** A new advertisement from a device (e.g. a new BTHome packet). */
  advertise(address: string, serviceData: Record<string, Buffer>): void {
    const spec = this.specs.find((s) => s.address === address);
    if (spec) spec.serviceData = serviceData;
    this.#devices.get(address)?.advertise(serviceData);
  }

  /** The device drops its connection (out of range, rebooted). */
  drop(address: string): void {
    this.#devices.get(address)?.Disconnect();
  }

  /** The device pushes a new value on a characteristic (a notification if subscribed). */
  push(uuid: string, value: Buffer): void {
    this.#chars.get(uuid)?.push(value);
  }

  #discover(bus: dbus.MessageBus, adapterPath: string): void {
    for (const spec of this.specs) {
      if (this.#devices.has(spec.address)) continue;
      const devPath = `${adapterPath}/dev_${spec.address.replace(/:/g, '_').toUpperCase()}`;
      let exported = false;
      const device = new Device1(spec, () => {
        if (exported) return; // the GATT tree exists once per device; a reconnect finds it again
        exported = true;
        for (const [si, s] of (spec.services ?? []).entries()) {
          const sPath = `${devPath}/service${(si + 1).toString(16).padStart(4, '0')}`;
          bus.export(sPath, new GattService1(s.uuid, devPath));
          for (const [ci, c] of s.characteristics.entries()) {
            const ch = new GattCharacteristic1(c, sPath);
            this.#chars.set(c.uuid, ch);
            bus.export(`${sPath}/char${(ci + 1).toString(16).padStart(4, '0')}`, ch);
          }
        }
      });
      this.#devices.set(spec.address, device);
      bus.export(devPath, device);
    }
  }
}
