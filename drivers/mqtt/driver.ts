import type { PublishPacket } from 'aedes';
import { DriverError, DriverErrorCodes, type RejectionCode } from '../errors.ts';
import type { AttributeSpec, Command, DeviceDescription, DeviceEvent, Driver, DriverCounters, DriverSink, RetainedConfigStore } from '../types.ts';
export type { RetainedConfigStore } from '../types.ts';
import {
  EmbeddedBroker,
  zeroBrokerCounters,
  type BrokerCounters,
  type BrokerHooks,
  type BrokerIdentity,
  type BrokerOptions,
  type Verdict,
  type ViolationKind,
} from './broker.ts';
import { parseDiscovery } from './discovery.ts';
import { parseTasmotaConfig, TASMOTA_PREFIX, TasmotaError, tasmotaEntities } from './tasmota.ts';
import type { EntityConfig } from './entity.ts';
import { decodeAvailability, encodeCommand, NOT_JSON, parseJsonOnce } from './entityCodec.ts';
import { EntityTable } from './entityTable.ts';
import { inferSpec, NATIVE_PREFIX, parseNativeConfig, parseNativeEvent, parseNativeState, parseNativeTopic, type NativeTopic } from './native.ts';
import { parseDiscoveryTopic, parseTasmotaDiscoveryTopic, topicMatches } from './topics.ts';

export interface MqttDriverOptions {
  readonly broker: Omit<BrokerOptions, 'publicTopics'>;
  readonly maxPayloadBytes: number;
  readonly authenticate: BrokerHooks['authenticate'];
  readonly claimClientId?: BrokerHooks['claimClientId'];
  readonly configs: RetainedConfigStore;
  readonly now?: () => number;
  /** Protocol violations (ACL, auth, oversize), for the host to log. */
  readonly onViolation?: (who: string | undefined, kind: ViolationKind, detail: string) => void;
}

const NATIVE_TOPIC_START = `${NATIVE_PREFIX}/`;
const DISCOVERY_TOPIC_START = 'homeassistant/';

/** Home Assistant's birth topic: devices re-announce their discovery configs when it says "online". */
export const HA_STATUS_TOPIC = 'homeassistant/status';
/** Tasmota devices the driver keeps discovery state for: a credential announcing MAC after MAC cannot grow it without end */
const MAX_TASMOTA_DEVICES = 1000;

interface NativeDevice {
  owner: string;
  name: string;
  manufacturer?: string | undefined;
  model?: string | undefined;
  swVersion?: string | undefined;
  attributes: Record<string, AttributeSpec>;
}

/**
 * The MQTT driver: runs the embedded broker and turns what devices publish (Home Assistant discovery
 * and state topics, or the native trellis/<id>/... convention) into device events, and commands into
 * publishes. QoS 1 publishes are acknowledged only after their readings are committed.
 */
export class MqttDriver implements Driver {
  readonly protocol = 'mqtt' as const;
  readonly #options: MqttDriverOptions;
  readonly #now: () => number;
  readonly #table = new EntityTable();
  readonly #native = new Map<string, NativeDevice>();
  readonly #problems = new Map<string, boolean>();
  readonly #counters = { messages: 0, rejected: 0, commandsSent: 0, discovered: 0, refused: 0 };
  #broker: EmbeddedBroker | undefined;
  #sink: DriverSink | undefined;

  constructor(options: MqttDriverOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get address(): { host: string; port: number } | undefined {
    return this.#broker?.address;
  }

  get tlsAddress(): { host: string; port: number } | undefined {
    return this.#broker?.tlsAddress;
  }

  /** A renewed certificate for the TLS listener. */
  updateTls(material: { cert: string; key: string }): void {
    this.#broker?.updateTls(material);
  }

  counters(): DriverCounters & BrokerCounters & { discovered: number; refused: number } {
    const broker = this.#broker?.counters() ?? zeroBrokerCounters();
    return { ...this.#counters, ...broker };
  }

  async start(sink: DriverSink): Promise<void> {
    if (this.#broker) return;
    this.#sink = sink;
    for (const { topic, owner, payload } of this.#options.configs.load()) this.#applyConfig(topic, owner, payload, undefined);
    const broker = new EmbeddedBroker(
      { ...this.#options.broker, publicTopics: [HA_STATUS_TOPIC] },
      {
        authenticate: this.#options.authenticate,
        ...(this.#options.claimClientId ? { claimClientId: this.#options.claimClientId } : {}),
        onPublish: (identity, packet, done) => this.#onPublish(identity, packet, done),
        onClientGone: (identity) => this.#onClientGone(identity),
        onViolation: (identity, kind, detail) => this.#options.onViolation?.(identity?.name, kind, detail),
      },
    );
    this.#broker = broker;
    await broker.start();
    await broker.publish(HA_STATUS_TOPIC, 'online', { retain: true, qos: 1 });
  }

  async stop(): Promise<void> {
    const broker = this.#broker;
    this.#broker = undefined;
    if (broker) await broker.stop();
  }

  async send(cmd: Command): Promise<void> {
    const broker = this.#broker;
    if (!broker) throw new DriverError(DriverErrorCodes.command, 'the MQTT driver is not running');
    const native = this.#native.get(cmd.deviceId);
    if (native) {
      await broker.publish(`${NATIVE_PREFIX}/${cmd.deviceId}/set`, JSON.stringify({ [cmd.attribute]: cmd.value }), { qos: 1 });
      this.#counters.commandsSent++;
      return;
    }
    const entity = this.#table.entityFor(cmd.deviceId, cmd.attribute);
    if (!entity) throw new DriverError(DriverErrorCodes.command, `device "${cmd.deviceId}" announced no attribute "${cmd.attribute}"`);
    const out = encodeCommand(entity, cmd.attribute, cmd.value);
    if ('error' in out) throw new DriverError(DriverErrorCodes.command, `${cmd.deviceId}.${out.error}`);
    await broker.publish(out.topic, out.payload, { qos: out.qos, retain: out.retain });
    this.#counters.commandsSent++;
  }

  #onPublish(identity: BrokerIdentity | undefined, packet: PublishPacket, done: (verdict: Verdict) => void): void {
    this.#counters.messages++;
    const sink = this.#sink;
    if (!sink) return done('accept');
    const topic = packet.topic;
    if (packet.payload.length > this.#options.maxPayloadBytes) {
      this.#reject(undefined, topic, `payload of ${packet.payload.length} bytes exceeds ${this.#options.maxPayloadBytes}`);
      this.#counters.refused++;
      return done('refuse');
    }
    const payload = packet.payload.toString('utf8');
    const owner = identity?.name;
    const native = topic.startsWith(NATIVE_TOPIC_START) ? this.#nativeTopic(topic) : undefined;
    const isConfig = native
      ? native.channel === 'config'
      : (topic.startsWith(DISCOVERY_TOPIC_START) && parseDiscoveryTopic(topic) !== undefined) ||
        (topic.startsWith(TASMOTA_PREFIX) && parseTasmotaDiscoveryTopic(topic) !== undefined);
    if (owner !== undefined && isConfig) {
      if (this.#applyConfig(topic, owner, payload, identity?.topics)) return done('accept');
      this.#counters.refused++; // neither stored as retained nor relayed
      return done('refuse');
    }
    const events = native ? this.#decodeNative(native, owner, payload) : this.#decodeRoutes(topic, payload);
    if (events.length === 0) return done('accept');
    if (packet.qos > 0) sink.ingest(events, (err) => (err ? done('refuse') : done('accept')));
    else {
      sink.ingest(events);
      done('accept');
    }
  }

  /** Parsed native topics, cached: each device publishes to the same few topics all day. */
  readonly #nativeTopics = new Map<string, NativeTopic | undefined>();

  #nativeTopic(topic: string): NativeTopic | undefined {
    if (this.#nativeTopics.has(topic)) return this.#nativeTopics.get(topic);
    const parsed = parseNativeTopic(topic);
    if (this.#nativeTopics.size >= 50_000) this.#nativeTopics.clear();
    this.#nativeTopics.set(topic, parsed);
    return parsed;
  }

  /**
   * Applies a discovery or native config; false when it is refused. `ownedTopics` is the publisher's
   * ACL: every topic the config names must lie inside it. Undefined when restoring from the store.
   */
  #applyConfig(topic: string, owner: string, payload: string, ownedTopics: readonly string[] | undefined): boolean {
    const persist = ownedTopics !== undefined;
    const native = parseNativeTopic(topic);
    if (native) return this.#applyNativeConfig(native.deviceId, topic, owner, payload, persist);
    const tasmota = parseTasmotaDiscoveryTopic(topic);
    if (tasmota) return this.#applyTasmota(topic, tasmota, owner, payload, ownedTopics);
    const announced = this.#table.announcedBy(topic);
    const previousOwner = announced.map((k) => this.#table.ownerOfDiscovery(k)).find((o) => o !== undefined);
    if (previousOwner !== undefined && previousOwner !== owner) {
      this.#reject(undefined, topic, `discovery topic belongs to "${previousOwner}", not "${owner}"`, DriverErrorCodes.discovery);
      return false;
    }
    const result = parseDiscovery(topic, payload, owner);
    if (!result.ok) {
      this.#reject(undefined, topic, result.error, DriverErrorCodes.discovery);
      return false;
    }
    if ('removed' in result) {
      for (const k of announced) this.#table.remove(k);
      if (persist) this.#options.configs.remove(topic);
      return true;
    }
    return this.#install(topic, owner, payload, result.entities, announced, ownedTopics);
  }

  /**
   * Installs what one discovery message announced, all or nothing: refused when any entity names a
   * topic outside `ownedTopics` or a device another credential owns. Entities the message announced
   * before (`announced`) and no longer does are removed (a device message that drops a component);
   * each device's new description is reported once; the message is kept for restarts. Warnings are
   * reported at each entity's key, or at `warnAt` when given.
   */
  #install(
    topic: string,
    owner: string,
    payload: string,
    entities: readonly EntityConfig[],
    announced: readonly string[],
    ownedTopics: readonly string[] | undefined,
    warnAt?: string,
  ): boolean {
    for (const entity of entities) {
      const problem = this.#ownershipProblem(entity, owner, ownedTopics);
      if (problem) {
        this.#reject(entity.device.id, topic, problem, DriverErrorCodes.discovery);
        return false;
      }
    }
    const kept = new Set(entities.map((e) => e.discoveryTopic));
    for (const k of announced) if (!kept.has(k)) this.#table.remove(k);
    const described = new Map<string, DeviceDescription>();
    for (const entity of entities) {
      described.set(entity.device.id, this.#table.put(entity, owner));
      for (const w of entity.warnings) this.#warnOnce(entity.device.id, warnAt ?? entity.discoveryTopic, w);
    }
    this.#counters.discovered += entities.length;
    if (ownedTopics !== undefined) this.#options.configs.save(topic, owner, payload);
    for (const d of described.values()) this.#sink?.describe(d);
    return true;
  }

  /** Tasmota discovery per MAC: its last config and sensors messages (either may come first) and who published them. */
  readonly #tasmota = new Map<string, { owner: string; config?: unknown; sensors?: unknown }>();

  /** Applies a Tasmota discovery message: the device's entities are rebuilt from its config and sensors messages. */
  #applyTasmota(
    topic: string,
    where: { mac: string; kind: 'config' | 'sensors' },
    owner: string,
    payload: string,
    ownedTopics: readonly string[] | undefined,
  ): boolean {
    const persist = ownedTopics !== undefined;
    const known = this.#tasmota.get(where.mac);
    if (known && known.owner !== owner) {
      this.#reject(undefined, topic, `Tasmota device ${where.mac} belongs to "${known.owner}", not "${owner}"`, DriverErrorCodes.discovery);
      return false;
    }
    if (!known && this.#tasmota.size >= MAX_TASMOTA_DEVICES) {
      this.#reject(undefined, topic, `more than ${MAX_TASMOTA_DEVICES} Tasmota devices announced; refused`, DriverErrorCodes.discovery);
      return false;
    }
    const entry = known ?? { owner };
    const prefix = `${TASMOTA_PREFIX}${where.mac}/`;
    const announced = [...this.#table.announcedBy(`${prefix}config`), ...this.#table.announcedBy(`${prefix}sensors`)];
    if (payload.length === 0) {
      delete entry[where.kind];
      for (const k of this.#table.announcedBy(topic)) this.#table.remove(k);
      if (persist) this.#options.configs.remove(topic);
      return true;
    }
    const json = parseJsonOnce(payload);
    if (json === NOT_JSON) {
      this.#reject(undefined, topic, `${topic}: payload is not JSON`, DriverErrorCodes.discovery);
      return false;
    }
    let entities: EntityConfig[] = [];
    const next = { ...entry, [where.kind]: json };
    if (next.config !== undefined) {
      try {
        entities = tasmotaEntities(parseTasmotaConfig(next.config), next.sensors);
      } catch (err) {
        if (!(err instanceof TasmotaError)) throw err;
        this.#reject(undefined, topic, `${prefix}config: ${err.message}`, DriverErrorCodes.discovery);
        return false;
      }
    }
    if (!this.#install(topic, owner, payload, entities, announced, ownedTopics, topic)) return false;
    this.#tasmota.set(where.mac, next);
    return true;
  }

  /** Optional parts of a config switched off (a template Trellis cannot evaluate): reported once per process, not at every re-announce. */
  readonly #warned = new Set<string>();
  #warnOnce(deviceId: string, source: string, warning: string): void {
    const key = `${source}\u0000${warning}`;
    if (this.#warned.has(key) || this.#warned.size > 10_000) return;
    this.#warned.add(key);
    this.#reject(deviceId, source, `kept without one part: ${warning}`, DriverErrorCodes.discovery);
  }

  #ownershipProblem(entity: EntityConfig, owner: string, ownedTopics: readonly string[] | undefined): string | undefined {
    if (ownedTopics) {
      const foreign = entity.topics.find((t) => !ownedTopics.some((f) => topicMatches(f, t)));
      if (foreign !== undefined) return `topic "${foreign}" is outside the topics of "${owner}"`;
    }
    const deviceOwner = this.#table.ownerOfDevice(entity.device.id) ?? this.#native.get(entity.device.id)?.owner;
    if (deviceOwner !== undefined && deviceOwner !== owner) return `device "${entity.device.id}" belongs to "${deviceOwner}", not "${owner}"`;
    return undefined;
  }

  #applyNativeConfig(deviceId: string, topic: string, owner: string, payload: string, persist: boolean): boolean {
    const json = parseJsonOnce(payload);
    const parsed = json === NOT_JSON ? ({ ok: false, error: 'config: payload is not a JSON object' } as const) : parseNativeConfig(json);
    if (!parsed.ok) {
      this.#reject(deviceId, topic, parsed.error, DriverErrorCodes.discovery);
      return false;
    }
    const existing = this.#native.get(deviceId);
    const c = parsed.config;
    const device: NativeDevice = {
      owner,
      name: c.name ?? existing?.name ?? deviceId,
      manufacturer: c.manufacturer,
      model: c.model,
      swVersion: c.swVersion,
      attributes: { ...(existing?.attributes ?? {}), ...c.attributes },
    };
    this.#native.set(deviceId, device);
    if (persist) this.#options.configs.save(topic, owner, payload);
    this.#describeNative(deviceId, device);
    return true;
  }

  #describeNative(deviceId: string, d: NativeDevice): void {
    this.#sink?.describe({
      id: deviceId,
      name: d.name,
      protocol: 'mqtt',
      owner: d.owner,
      manufacturer: d.manufacturer,
      model: d.model,
      swVersion: d.swVersion,
      attributes: d.attributes,
    });
  }

  #decodeNative(t: NativeTopic, owner: string | undefined, payload: string): DeviceEvent[] {
    const ts = this.#now();
    if (t.channel === 'set') return [];
    if (t.channel === 'status') {
      if (payload !== 'online' && payload !== 'offline') {
        this.#reject(t.deviceId, `${NATIVE_PREFIX}/${t.deviceId}/status`, `expected "online" or "offline", got ${JSON.stringify(payload.slice(0, 20))}`);
        return [];
      }
      return this.#native.has(t.deviceId) ? [{ kind: 'availability', deviceId: t.deviceId, ts, online: payload === 'online' }] : [];
    }
    const json = parseJsonOnce(payload);
    if (t.channel === 'event') {
      const e = json === NOT_JSON ? undefined : parseNativeEvent(json);
      if (!e) {
        this.#reject(t.deviceId, `${NATIVE_PREFIX}/${t.deviceId}/event`, 'expected {"button": "...", "action": "..."}');
        return [];
      }
      return this.#ensureNative(t.deviceId, owner, []) ? [{ kind: 'button', deviceId: t.deviceId, ts, ...e }] : [];
    }
    const state = json === NOT_JSON ? ({ ok: false, error: 'state: payload is not a JSON object' } as const) : parseNativeState(json);
    if (!state.ok) {
      this.#reject(t.deviceId, `${NATIVE_PREFIX}/${t.deviceId}/state`, state.error);
      return [];
    }
    if (!this.#ensureNative(t.deviceId, owner, state.values)) return [];
    return state.values.map(([attribute, value]) => ({ kind: 'reading', deviceId: t.deviceId, ts, attribute, value }));
  }

  /** Registers a native device (or new attributes of one) seen in a state message without a config. */
  #ensureNative(deviceId: string, owner: string | undefined, values: ReadonlyArray<readonly [string, unknown]>): boolean {
    if (owner === undefined) return this.#native.has(deviceId);
    let device = this.#native.get(deviceId);
    if (device && device.owner !== owner) {
      this.#reject(deviceId, `${NATIVE_PREFIX}/${deviceId}`, `device belongs to "${device.owner}", not "${owner}"`);
      return false;
    }
    let changed = false;
    if (!device) {
      if (this.#table.ownerOfDevice(deviceId) !== undefined) return false;
      device = { owner, name: deviceId, attributes: {} };
      this.#native.set(deviceId, device);
      changed = true;
    }
    for (const [name, value] of values) {
      if (!device.attributes[name]) {
        device.attributes[name] = inferSpec(value as never);
        changed = true;
      }
    }
    if (changed) this.#describeNative(deviceId, device);
    return true;
  }

  #decodeRoutes(topic: string, payload: string): DeviceEvent[] {
    const routes = this.#table.routes(topic);
    if (!routes) return [];
    const ts = this.#now();
    const json = parseJsonOnce(payload);
    const events: DeviceEvent[] = [];
    for (const route of routes) {
      const deviceId = route.entity.device.id;
      if (route.kind === 'availability') {
        const online = decodeAvailability(route.availability, payload, json);
        if (online === undefined) this.#reject(deviceId, topic, `availability: unexpected payload ${JSON.stringify(payload.slice(0, 20))}`);
        else if (!events.some((e) => e.kind === 'availability' && e.deviceId === deviceId)) events.push({ kind: 'availability', deviceId, ts, online });
        continue;
      }
      const decoded = route.reader.decode(payload, json);
      if ('error' in decoded) {
        this.#reject(deviceId, topic, decoded.error);
        continue;
      }
      for (const [attribute, value] of decoded.values) {
        events.push({ kind: 'reading', deviceId, ts, attribute, value });
        if (route.entity.attributes[attribute]?.deviceClass === 'problem') this.#problemEvent(deviceId, attribute, value === true, ts, events);
      }
      for (const p of decoded.pressed ?? []) events.push({ kind: 'button', deviceId, ts, button: p.button, action: p.action });
    }
    return events;
  }

  /** A binary_sensor of class "problem" also raises and clears a fault (once per change). */
  #problemEvent(deviceId: string, attribute: string, active: boolean, ts: number, into: DeviceEvent[]): void {
    const key = `${deviceId}\u0000${attribute}`;
    if (this.#problems.get(key) === active) return;
    const first = !this.#problems.has(key);
    this.#problems.set(key, active);
    if (first && !active) return;
    into.push({ kind: 'fault', deviceId, ts, code: attribute, active, message: `${attribute} ${active ? 'raised' : 'cleared'}` });
  }

  #onClientGone(identity: BrokerIdentity): void {
    const ts = this.#now();
    const events: DeviceEvent[] = [];
    for (const deviceId of this.#table.devicesOf(identity.name)) events.push({ kind: 'availability', deviceId, ts, online: false });
    for (const [deviceId, d] of this.#native) if (d.owner === identity.name) events.push({ kind: 'availability', deviceId, ts, online: false });
    if (events.length > 0) this.#sink?.ingest(events);
  }

  #reject(deviceId: string | undefined, source: string, reason: string, code: RejectionCode = DriverErrorCodes.payload): void {
    this.#counters.rejected++;
    this.#sink?.rejected(deviceId, source, reason, code);
  }
}
