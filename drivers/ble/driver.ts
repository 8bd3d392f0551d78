import { createHash } from 'node:crypto';
import type NodeBle from 'node-ble';
import { DriverError, DriverErrorCodes } from '../errors.ts';
import type { AttributeType, Command, DeviceEvent, Driver, DriverCounters, DriverSink, Now, ReplayCounters } from '../types.ts';
import { decodeBthome } from './bthome.ts';
import { decryptBthome } from './bthomeCrypto.ts';
import { NearbyList, type NearbyDevice } from './nearby.ts';
import { BTHOME_SERVICE_DATA_UUID, decodeGatt, encodeGatt, GATT_PROFILES, profileSpecs, type GattProfile } from './profiles.ts';
import { bluetoothClass, openBleSession, type BleSession } from './session.ts';

export interface BleConfig {
  /** D-Bus address of the bus BlueZ is on; default: the system bus. */
  readonly dbusAddress?: string | undefined;
  readonly adapter?: string | undefined;
  readonly scanMs: number;
  /** An advertising device not heard from this long is offline. */
  readonly offlineAfterMs: number;
  readonly maxConnections: number;
  /** list BTHome sensors and known GATT devices nearby that no entry names, to be adopted */
  readonly scan?: boolean | undefined;
  readonly devices: ReadonlyArray<BleDeviceEntry>;
}

export interface BleDeviceEntry {
  readonly address: string;
  readonly id: string;
  readonly name?: string | undefined;
  readonly profile: string;
  /** an encrypted BTHome sensor's bind key (32 hex digits) */
  readonly bindKey?: string | undefined;
}

interface Tracked {
  readonly address: string;
  readonly id: string;
  readonly name: string;
  readonly profile: GattProfile | undefined; // undefined: BTHome advertisements
  online: boolean;
  lastSeen: number;
  lastPacket: string | undefined;
  attributes: Set<string>;
  /** encrypted BTHome: the bind key, and the highest counter accepted (replays are refused) */
  readonly bindKey: Buffer | undefined;
  /** its name in the replay counters: address and a hash of the key */
  readonly replayId: string | undefined;
  lastCounter: number | undefined;
  // GATT
  device?: NodeBle.Device | undefined;
  chars?: Map<string, NodeBle.GattCharacteristic> | undefined;
  connecting: boolean;
  nextAttempt: number;
  backoffMs: number;
}

/** How long one D-Bus call may take. A bus that never connects leaves calls pending forever. */
const CALL_TIMEOUT_MS = 5000;

function timed<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from BlueZ in ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The BLE driver (node-ble over BlueZ's D-Bus API): BTHome sensors are read from their advertisements
 * (decoded, de-duplicated by packet id); GATT devices are connected (at most `maxConnections` at once),
 * read, subscribed to, written, and reconnected with backoff when they drop. When BlueZ or the adapter
 * goes away the session is reopened with backoff and every device is offline meanwhile.
 */
export class BleDriver implements Driver {
  readonly protocol = 'ble' as const;
  readonly #cfg: BleConfig;
  readonly #devices: Tracked[];
  readonly #nearby: NearbyList;
  #adapterName = '';
  /**
   * node-ble Devices of this session, one per address: each one subscribes to its D-Bus property
   * signals for good, so a new one per connection attempt would pile up listeners.
   */
  readonly #handles = new Map<string, NodeBle.Device>();
  readonly #counters = { messages: 0, rejected: 0, commandsSent: 0, reconnects: 0, sessionRestarts: 0 };
  #sink: DriverSink | undefined;
  #session: BleSession | undefined;
  #adapter: NodeBle.Adapter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sessionBackoff = 200;
  #nextSession = 0;
  #scanning = false;
  #stopped = true;

  readonly #now: Now;
  readonly #replay: ReplayCounters | undefined;

  constructor(cfg: BleConfig, now: Now = Date.now, replay?: ReplayCounters) {
    this.#cfg = cfg;
    this.#now = now;
    this.#replay = replay;
    this.#devices = cfg.devices.map((d) => this.#track(d));
    this.#nearby = new NearbyList(Math.max(5000, cfg.scanMs * 5));
  }

  async start(sink: DriverSink): Promise<void> {
    if (!this.#stopped || (this.#devices.length === 0 && !this.#cfg.scan)) return;
    bluetoothClass(); // node-ble's private class, checked before anything runs (throws TRELLIS_E_INTERNALS)
    this.#stopped = false;
    this.#sink = sink;
    for (const d of this.#devices) this.#describeGatt(d);
    const tick = () => {
      void this.#scan().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#cfg.scanMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const d of this.#devices) await timed(d.device?.disconnect() ?? Promise.resolve(), 'disconnect').catch(() => undefined);
    this.#closeSession(); // pending calls of a scan in progress fail with the closed bus
    for (let waited = 0; this.#scanning && waited < CALL_TIMEOUT_MS; waited += 5) await new Promise((r) => setTimeout(r, 5));
  }

  /** What the scan hears that no entry names (empty unless `scan` is on). */
  nearby(): NearbyDevice[] {
    return this.#nearby.list();
  }

  /**
   * Starts reading a device the scan found, with the profile it was recognised by. Refused (a
   * DriverError naming why): an address not heard nearby, one already tracked, an id in use, an
   * encrypted sensor without its bind key or with a key that does not open its last advert.
   */
  adopt(entry: Omit<BleDeviceEntry, 'profile'>): BleDeviceEntry {
    const address = entry.address.toUpperCase();
    const found = this.#nearby.get(address);
    const refuse = (why: string) => new DriverError(DriverErrorCodes.command, `cannot adopt ${address}: ${why}`);
    if (this.#devices.some((d) => d.address === address)) throw refuse('it is already set up');
    if (this.#devices.some((d) => d.id === entry.id)) throw refuse(`the id ${entry.id} is taken`);
    if (!found) throw refuse('it is not among the devices heard nearby (is it in range and advertising?)');
    if (found.encrypted) {
      if (!entry.bindKey) throw refuse('its adverts are encrypted: give its bindKey (32 hex digits, printed on the box or shown by its app)');
      const opened = found.advert && decryptBthome(found.advert, Buffer.from(entry.bindKey, 'hex'), address);
      if (!opened?.ok) throw refuse(`the bindKey does not decrypt its advert (${opened ? opened.error : 'no advert yet'})`);
    }
    const adopted: BleDeviceEntry = { ...entry, address, profile: found.profile, bindKey: found.encrypted ? entry.bindKey : undefined };
    const d = this.#track(adopted);
    this.#devices.push(d);
    this.#nearby.forget(address);
    this.#describeGatt(d);
    return adopted;
  }

  /** Stops reading an adopted device (its history stays); false if no device has that address. */
  async forget(address: string): Promise<boolean> {
    const i = this.#devices.findIndex((d) => d.address === address.toUpperCase());
    const d = this.#devices[i];
    if (!d) return false;
    this.#devices.splice(i, 1);
    d.device?.removeAllListeners();
    await timed(d.device?.disconnect() ?? Promise.resolve(), 'disconnect').catch(() => undefined);
    this.#setOnline(d, false);
    return true;
  }

  #track(d: BleDeviceEntry): Tracked {
    const address = d.address.toUpperCase();
    const bindKey = d.bindKey ? Buffer.from(d.bindKey, 'hex') : undefined;
    const replayId = bindKey && `${address}/${createHash('sha256').update(bindKey).digest('hex').slice(0, 16)}`;
    return {
      address,
      id: d.id,
      name: d.name ?? d.id,
      profile: d.profile === 'bthome' ? undefined : GATT_PROFILES[d.profile],
      online: false,
      lastSeen: 0,
      lastPacket: undefined,
      attributes: new Set(),
      bindKey,
      replayId,
      lastCounter: replayId ? this.#replay?.last(replayId) : undefined,
      connecting: false,
      nextAttempt: 0,
      backoffMs: 500,
    };
  }

  #describeGatt(d: Tracked): void {
    if (!d.profile) return; // BTHome sensors are described by what their adverts carry
    this.#sink?.describe({
      id: d.id,
      name: d.name,
      protocol: 'ble',
      owner: `ble:${d.address}`,
      manufacturer: d.profile.manufacturer,
      model: d.profile.model,
      attributes: profileSpecs(d.profile),
    });
  }

  counters(): DriverCounters {
    return { ...this.#counters };
  }

  async send(cmd: Command): Promise<void> {
    const d = this.#devices.find((x) => x.id === cmd.deviceId);
    const point = d?.profile?.points.find((p) => p.attribute === cmd.attribute);
    if (!d || !point) throw new DriverError(DriverErrorCodes.command, `no BLE device "${cmd.deviceId}" with attribute "${cmd.attribute}"`);
    const char = d.chars?.get(point.attribute);
    if (!char) throw new DriverError(DriverErrorCodes.command, `${d.id} is not connected`);
    const bytes = encodeGatt(point.codec, cmd.value);
    if (!bytes) throw new DriverError(DriverErrorCodes.command, `${d.id}.${point.attribute}: cannot encode ${JSON.stringify(cmd.value)}`);
    try {
      await timed(char.writeValue(bytes), 'write');
      const back = decodeGatt(point.codec, await timed(char.readValue(), 'read back')); // confirm by reading back
      if (back !== undefined) this.#emit([{ kind: 'reading', deviceId: d.id, ts: this.#now(), attribute: point.attribute, value: back }]);
      this.#counters.commandsSent++;
    } catch (err) {
      throw new DriverError(DriverErrorCodes.command, `${d.id}: write failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async #scan(): Promise<void> {
    this.#scanning = true;
    try {
      const adapter = await this.#ensureSession();
      if (!adapter) return;
      // what BlueZ has heard, asked once per scan for every advertising sensor and the survey
      const listens = this.#cfg.scan || this.#devices.some((d) => !d.profile);
      const listed = listens ? (await timed(adapter.devices(), 'list devices')).map((a) => a.toUpperCase()) : [];
      for (const d of [...this.#devices]) {
        if (d.profile) await this.#keepConnected(adapter, d);
        else await this.#readAdvert(listed, d);
      }
      if (this.#cfg.scan) await this.#survey(listed);
    } catch {
      // BlueZ went away mid-scan: start over with a new session (after backoff)
      this.#closeSession();
    } finally {
      this.#scanning = false;
    }
  }

  async #ensureSession(): Promise<NodeBle.Adapter | undefined> {
    if (this.#adapter) return this.#adapter;
    if (performance.now() < this.#nextSession) return undefined;
    try {
      const session = openBleSession(this.#cfg.dbusAddress);
      this.#session = session;
      const adapter = await timed(this.#cfg.adapter ? session.bluetooth.getAdapter(this.#cfg.adapter) : session.bluetooth.defaultAdapter(), 'find adapter');
      const name = this.#cfg.adapter ?? (await timed(adapter.getName(), 'adapter name'));
      this.#adapterName = name;
      if (!(await timed(adapter.isPowered(), 'adapter state'))) await timed(session.powerOn(name), 'power on');
      if (!(await timed(adapter.isDiscovering(), 'discovery state'))) await timed(adapter.startDiscovery(), 'start discovery');
      // after startDiscovery: node-ble sets its own filter ({Transport: le}) there, replacing ours
      await timed(session.leScanFilter(name), 'scan filter');
      this.#adapter = adapter;
      this.#sessionBackoff = 200;
      return adapter;
    } catch {
      this.#counters.sessionRestarts++;
      this.#closeSession();
      this.#nextSession = performance.now() + this.#sessionBackoff;
      this.#sessionBackoff = Math.min(this.#sessionBackoff * 2, 10_000);
      return undefined;
    }
  }

  #closeSession(): void {
    this.#session?.destroy();
    this.#session = undefined;
    this.#handles.clear();
    this.#adapter = undefined;
    for (const d of this.#devices) {
      d.device?.removeAllListeners();
      d.device = undefined;
      d.chars = undefined;
      d.connecting = false;
      this.#setOnline(d, false);
    }
  }

  /** Reads the addresses no entry names (a few per scan) for the nearby list. */
  async #survey(listed: readonly string[]): Promise<void> {
    const now = this.#now();
    const session = this.#session as BleSession;
    for (const address of this.#nearby.due(listed, (a) => this.#devices.some((d) => d.address === a), now)) {
      const heard = await timed(session.advert(this.#adapterName, address), 'read advertisement').catch(() => undefined);
      this.#nearby.heard(address, heard && { address, ...heard }, now);
    }
  }

  async #readAdvert(listed: readonly string[], d: Tracked): Promise<void> {
    const now = this.#now();
    if (listed.includes(d.address)) {
      const advert = await timed((this.#session as BleSession).advert(this.#adapterName, d.address), 'read advertisement');
      const bytes = advert.serviceData[BTHOME_SERVICE_DATA_UUID];
      if (bytes && bytes.toString('hex') !== d.lastPacket) this.#decodeAdvert(d, bytes, now);
    }
    if (d.online && now - d.lastSeen > this.#cfg.offlineAfterMs) this.#setOnline(d, false);
  }

  #decodeAdvert(d: Tracked, bytes: Buffer, now: number): void {
    d.lastPacket = bytes.toString('hex'); // the same packet re-read (or re-sent with its packet id) is not news
    const plain = this.#plaintext(d, bytes);
    if (!plain) return;
    const r = decodeBthome(plain);
    if (!r.ok) {
      this.#counters.rejected++;
      this.#sink?.rejected(d.id, `ble ${d.address}`, r.error);
      return;
    }
    if (r.unknownObject !== undefined || r.truncated) {
      this.#counters.rejected++;
      this.#sink?.rejected(d.id, `ble ${d.address}`, r.truncated ? 'truncated BTHome object' : `unknown BTHome object 0x${r.unknownObject?.toString(16)}`);
    }
    const fresh = r.readings.filter((x) => !d.attributes.has(x.attribute));
    if (fresh.length > 0) {
      for (const x of fresh) d.attributes.add(x.attribute);
      this.#sink?.describe({
        id: d.id,
        name: d.name,
        protocol: 'ble',
        owner: `ble:${d.address}`,
        model: 'BTHome sensor',
        attributes: Object.fromEntries(r.readings.map((x) => [x.attribute, { type: typeof x.value as AttributeType, unit: x.unit, writable: false }])),
      });
    }
    d.lastSeen = now;
    this.#setOnline(d, true);
    const events: DeviceEvent[] = r.readings.map((x) => ({ kind: 'reading', deviceId: d.id, ts: now, attribute: x.attribute, value: x.value }));
    for (const e of r.events) events.push({ kind: 'button', deviceId: d.id, ts: now, button: e.button, action: e.action });
    this.#emit(events);
  }

  /**
   * The advertisement's objects, decrypted for a device with a bind key: a packet that fails its MIC
   * (a wrong key, a forgery), one whose counter is not above the last accepted one (a replay), and an
   * unencrypted one (a downgrade) are counted and refused.
   */
  #plaintext(d: Tracked, bytes: Buffer): Uint8Array | undefined {
    if (!d.bindKey) return bytes;
    const refuse = (why: string) => {
      this.#counters.rejected++;
      this.#sink?.rejected(d.id, `ble ${d.address}`, why);
      return undefined;
    };
    if (((bytes[0] ?? 0) & 0x01) === 0) return refuse('unencrypted BTHome packet from a device with a bindKey (refused: anyone can send those)');
    const r = decryptBthome(bytes, d.bindKey, d.address);
    if (!r.ok) return refuse(r.error);
    if (d.lastCounter !== undefined && r.counter <= d.lastCounter)
      return refuse(`replayed BTHome packet: counter ${r.counter}, last accepted ${d.lastCounter}`);
    d.lastCounter = r.counter;
    if (d.replayId) this.#replay?.accepted(d.replayId, r.counter);
    return r.plain;
  }

  async #keepConnected(adapter: NodeBle.Adapter, d: Tracked): Promise<void> {
    if (d.chars || d.connecting || performance.now() < d.nextAttempt) return;
    if (this.#devices.filter((x) => x.chars || x.connecting).length >= this.#cfg.maxConnections) return;
    const profile = d.profile as GattProfile;
    d.connecting = true;
    try {
      const addresses = (await timed(adapter.devices(), 'list devices')).map((a) => a.toUpperCase());
      if (!addresses.includes(d.address)) throw new Error('not in range');
      const device = this.#handles.get(d.address) ?? (await timed(adapter.getDevice(d.address), 'get device'));
      this.#handles.set(d.address, device);
      await timed(device.connect(), 'connect');
      const gatt = await timed(device.gatt(), 'discover services');
      const chars = new Map<string, NodeBle.GattCharacteristic>();
      const events: DeviceEvent[] = [];
      for (const p of profile.points) {
        const char = await timed(
          timed(gatt.getPrimaryService(p.service), 'service').then((svc) => svc.getCharacteristic(p.characteristic)),
          'characteristic',
        );
        chars.set(p.attribute, char);
        const value = decodeGatt(p.codec, await timed(char.readValue(), 'read'));
        if (value !== undefined) events.push({ kind: 'reading', deviceId: d.id, ts: this.#now(), attribute: p.attribute, value });
        if (p.notify) {
          char.on('valuechanged', (buf: Buffer) => {
            const v = decodeGatt(p.codec, buf);
            if (v !== undefined) this.#emit([{ kind: 'reading', deviceId: d.id, ts: this.#now(), attribute: p.attribute, value: v }]);
          });
          await timed(char.startNotifications(), 'subscribe');
        }
      }
      device.on('disconnect', () => {
        d.device?.removeAllListeners();
        d.device = undefined;
        d.chars = undefined;
        this.#counters.reconnects++;
        this.#setOnline(d, false);
      });
      d.device = device;
      d.chars = chars;
      d.backoffMs = 500;
      this.#setOnline(d, true);
      this.#emit(events);
    } catch {
      d.nextAttempt = performance.now() + d.backoffMs;
      d.backoffMs = Math.min(d.backoffMs * 2, 30_000);
    } finally {
      d.connecting = false;
    }
  }

  #setOnline(d: Tracked, online: boolean): void {
    if (d.online === online) return;
    d.online = online;
    if (!online) d.lastPacket = undefined;
    this.#emit([{ kind: 'availability', deviceId: d.id, ts: this.#now(), online }]);
  }

  #emit(events: DeviceEvent[]): void {
    if (events.length === 0) return;
    this.#counters.messages += events.length;
    this.#sink?.ingest(events);
  }
}
