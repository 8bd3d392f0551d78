import type { AttributeSpec, DeviceDescription } from '../types.ts';
import type { Availability, EntityConfig, StateReader } from './entity.ts';

export type Route =
  | { readonly kind: 'state'; readonly entity: EntityConfig; readonly reader: StateReader }
  | { readonly kind: 'availability'; readonly entity: EntityConfig; readonly availability: Availability };

interface DeviceEntry {
  owner: string;
  name: string;
  manufacturer: string | undefined;
  model: string | undefined;
  swVersion: string | undefined;
  /** discovery topic -> entity */
  entities: Map<string, EntityConfig>;
}

/**
 * What the MQTT driver knows from discovery: entities by discovery topic, devices with their owner,
 * and the routing table from each subscribed topic to the entities that read it.
 */
export class EntityTable {
  readonly #byDiscovery = new Map<string, { entity: EntityConfig; owner: string }>();
  readonly #devices = new Map<string, DeviceEntry>();
  readonly #routes = new Map<string, Route[]>();

  routes(topic: string): readonly Route[] | undefined {
    return this.#routes.get(topic);
  }

  ownerOfDiscovery(discoveryTopic: string): string | undefined {
    return this.#byDiscovery.get(discoveryTopic)?.owner;
  }

  ownerOfDevice(deviceId: string): string | undefined {
    return this.#devices.get(deviceId)?.owner;
  }

  devicesOf(owner: string): string[] {
    const ids: string[] = [];
    for (const [id, d] of this.#devices) if (d.owner === owner) ids.push(id);
    return ids;
  }

  /** The entity that owns `attribute` of a device (a light owns `<attr>_brightness` too, a thermostat its temperatures and modes). */
  entityFor(deviceId: string, attribute: string): EntityConfig | undefined {
    const device = this.#devices.get(deviceId);
    if (!device) return undefined;
    for (const e of device.entities.values()) if (Object.hasOwn(e.attributes, attribute)) return e;
    return undefined;
  }

  /** The entities one discovery message announced (a device message announces several, keyed `<topic>#<object id>`). */
  announcedBy(discoveryTopic: string): string[] {
    return [...this.#byDiscovery.keys()].filter((k) => k === discoveryTopic || k.startsWith(`${discoveryTopic}#`));
  }

  /** Adds or replaces an entity; returns the device's new description. */
  put(entity: EntityConfig, owner: string): DeviceDescription {
    this.remove(entity.discoveryTopic);
    this.#byDiscovery.set(entity.discoveryTopic, { entity, owner });
    let device = this.#devices.get(entity.device.id);
    if (!device) {
      device = { owner, name: entity.device.name, manufacturer: undefined, model: undefined, swVersion: undefined, entities: new Map() };
      this.#devices.set(entity.device.id, device);
    }
    if (!entity.device.unnamed) device.name = entity.device.name; // a bare `{ids: [...]}` block does not rename the device
    device.manufacturer = entity.device.manufacturer ?? device.manufacturer;
    device.model = entity.device.model ?? device.model;
    device.swVersion = entity.device.swVersion ?? device.swVersion;
    device.entities.set(entity.discoveryTopic, entity);
    for (const reader of entity.readers) this.#addRoute(reader.topic, { kind: 'state', entity, reader });
    for (const availability of entity.availability) this.#addRoute(availability.topic, { kind: 'availability', entity, availability });
    return this.describe(entity.device.id) as DeviceDescription;
  }

  /** Removes an entity (its device and history stay). */
  remove(discoveryTopic: string): void {
    const existing = this.#byDiscovery.get(discoveryTopic);
    if (!existing) return;
    this.#byDiscovery.delete(discoveryTopic);
    this.#devices.get(existing.entity.device.id)?.entities.delete(discoveryTopic);
    for (const [topic, routes] of this.#routes) {
      const kept = routes.filter((r) => r.entity !== existing.entity);
      if (kept.length === 0) this.#routes.delete(topic);
      else if (kept.length !== routes.length) this.#routes.set(topic, kept);
    }
  }

  describe(deviceId: string): DeviceDescription | undefined {
    const d = this.#devices.get(deviceId);
    if (!d) return undefined;
    const attributes: Record<string, AttributeSpec> = {};
    for (const e of d.entities.values()) Object.assign(attributes, e.attributes);
    return { id: deviceId, name: d.name, protocol: 'mqtt', owner: d.owner, manufacturer: d.manufacturer, model: d.model, swVersion: d.swVersion, attributes };
  }

  #addRoute(topic: string, route: Route): void {
    const list = this.#routes.get(topic);
    if (list) list.push(route);
    else this.#routes.set(topic, [route]);
  }
}
