import { createRequire } from 'node:module';
import dbus from 'dbus-next';
import type NodeBle from 'node-ble';
import { DriverError, DriverErrorCodes } from '../errors.ts';

/**
 * A node-ble session on a bus we choose: the system bus (where BlueZ lives) by default, or any
 * address (a private bus with a simulated BlueZ in tests and the demo). node-ble's own
 * `createBluetooth()` only reaches the system bus, so its Bluetooth class gets our connection.
 */
type BluetoothClass = new (bus: dbus.MessageBus) => NodeBle.Bluetooth;

/**
 * node-ble's Bluetooth class from its private file (its public API takes no bus). Checked when the
 * driver starts: a node-ble release that moves or changes it fails with a clear error, never with a
 * half-working driver.
 */
export function bluetoothClass(load: (id: string) => unknown = createRequire(import.meta.url)): BluetoothClass {
  let loaded: unknown;
  try {
    loaded = load('node-ble/src/Bluetooth.js');
  } catch (err) {
    throw new DriverError(
      DriverErrorCodes.internals,
      `node-ble no longer ships src/Bluetooth.js (${(err as Error).message}); pin node-ble to a version this Trellis supports`,
      { cause: err },
    );
  }
  const proto = (loaded as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (typeof loaded !== 'function' || typeof proto?.defaultAdapter !== 'function' || typeof proto.getAdapter !== 'function') {
    throw new DriverError(
      DriverErrorCodes.internals,
      'node-ble src/Bluetooth.js is not the Bluetooth class (defaultAdapter, getAdapter) this driver uses; pin node-ble to a version this Trellis supports',
    );
  }
  return loaded as BluetoothClass;
}

export interface BleSession {
  readonly bluetooth: NodeBle.Bluetooth;
  /** Powers an adapter on (BlueZ Adapter1.Powered; node-ble has no setter). */
  powerOn(adapter: string): Promise<void>;
  /**
   * Scans LE only and reports repeated advertisements (BlueZ Adapter1.SetDiscoveryFilter, Transport
   * "le", DuplicateData true): BTHome sensors repeat the same advert with new values.
   */
  leScanFilter(adapter: string): Promise<void>;
  /**
   * What a device advertises (BlueZ Device1: Name, RSSI, ServiceData, UUIDs) in one GetAll call.
   * node-ble's Device is not used for this: each instance subscribes to the device's property
   * signals and never lets go, so one per scan would leak a listener per device per scan.
   */
  advert(adapter: string, address: string): Promise<Advert>;
  destroy(): void;
}

export interface Advert {
  readonly name: string | undefined;
  /** dBm; absent when BlueZ has not heard the device in this discovery */
  readonly rssi: number | undefined;
  /** service UUID (lower case) -> bytes, e.g. BTHome's */
  readonly serviceData: Record<string, Buffer>;
  readonly uuids: readonly string[];
}

type PropsProxy = { GetAll(i: string): Promise<Record<string, dbus.Variant | undefined>> };

export function openBleSession(busAddress: string | undefined): BleSession {
  const Bluetooth = bluetoothClass();
  const proxies = new Map<string, PropsProxy>();
  const bus = busAddress ? dbus.sessionBus({ busAddress }) : dbus.systemBus();
  bus.on('error', () => {}); // a vanished bus surfaces as failed calls, handled by the driver
  return {
    bluetooth: new Bluetooth(bus),
    async powerOn(adapter) {
      const obj = await bus.getProxyObject('org.bluez', `/org/bluez/${adapter}`);
      const props = obj.getInterface('org.freedesktop.DBus.Properties') as unknown as { Set(i: string, p: string, v: dbus.Variant): Promise<void> };
      await props.Set('org.bluez.Adapter1', 'Powered', new dbus.Variant('b', true));
    },
    async leScanFilter(adapter) {
      const obj = await bus.getProxyObject('org.bluez', `/org/bluez/${adapter}`);
      const a = obj.getInterface('org.bluez.Adapter1') as unknown as { SetDiscoveryFilter(f: Record<string, dbus.Variant>): Promise<void> };
      await a.SetDiscoveryFilter({ Transport: new dbus.Variant('s', 'le'), DuplicateData: new dbus.Variant('b', true) });
    },
    async advert(adapter, address) {
      const path = `/org/bluez/${adapter}/dev_${address.replace(/:/g, '_')}`;
      let props = proxies.get(path);
      if (!props) {
        if (proxies.size >= 512) proxies.clear(); // addresses come and go (phones rotate theirs)
        const obj = await bus.getProxyObject('org.bluez', path);
        props = obj.getInterface('org.freedesktop.DBus.Properties') as unknown as PropsProxy;
        proxies.set(path, props);
      }
      const all = await props.GetAll('org.bluez.Device1');
      const serviceData: Record<string, Buffer> = {};
      for (const [uuid, v] of Object.entries((all.ServiceData?.value ?? {}) as Record<string, dbus.Variant | undefined>))
        if (Buffer.isBuffer(v?.value)) serviceData[uuid.toLowerCase()] = v.value;
      const uuids = all.UUIDs?.value;
      return {
        name: typeof all.Name?.value === 'string' ? all.Name.value : undefined,
        rssi: typeof all.RSSI?.value === 'number' ? all.RSSI.value : undefined,
        serviceData,
        uuids: Array.isArray(uuids) ? uuids.filter((u): u is string => typeof u === 'string') : [],
      };
    },
    destroy: () => bus.disconnect(),
  };
}
