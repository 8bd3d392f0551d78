import * as z from 'zod';
import { reservedName } from '../types.ts';
import { expandDiscoveryPayload } from './abbreviations.ts';
import { BASIC } from './components/basic.ts';
import { climate } from './components/climate.ts';
import { cover, valve } from './components/cover.ts';
import { fan } from './components/fan.ts';
import type { ComponentBuilder, ComponentContext, Config } from './components/kit.ts';
import { light } from './components/light.ts';
import { lock } from './components/lock.ts';
import { deviceTrigger, event } from './components/trigger.ts';
import { type Availability, type DeviceInfo, DiscoveryError, type EntityConfig, isRecord } from './entity.ts';
import { compileTemplate, TemplateError } from './template.ts';
import { isValidTopicName, parseDiscoveryTopic } from './topics.ts';

export type { Availability, DeviceInfo, EntityConfig, Payload } from './entity.ts';

/**
 * Home Assistant MQTT discovery [https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery]:
 * a retained JSON config on `homeassistant/<component>/[<node_id>/]<object_id>/config` describes one
 * entity, and since HA 2024.11 `homeassistant/device/<object_id>/config` describes a device with its
 * entities under `cmps` (each naming its component in `platform`); entities sharing
 * `device.identifiers` form one device. Each component maps onto typed attributes, state readers and
 * command writers (components/).
 */
const BUILDERS: Readonly<Record<string, ComponentBuilder>> = {
  ...BASIC,
  light,
  climate,
  cover,
  valve,
  lock,
  fan,
  device_automation: deviceTrigger,
  event,
};
export const COMPONENTS = Object.keys(BUILDERS);

export type DiscoveryResult = { ok: true; entities: EntityConfig[] } | { ok: false; error: string } | { ok: true; removed: true };

const payload = z.union([z.string(), z.number(), z.boolean()]);
const identifiers = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const availabilityEntry = z.object({
  topic: z.string(),
  payload_available: payload.optional(),
  payload_not_available: payload.optional(),
  value_template: z.string().optional(),
});
const deviceBlock = z.object({
  identifiers: identifiers.optional(),
  name: z.string().optional(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  sw_version: z.string().optional(),
});

/** The keys every component shares; each builder reads its own keys from the same object. */
const commonSchema = z.looseObject({
  name: z.string().nullable().optional(),
  unique_id: z.string().optional(),
  object_id: z.string().optional(),
  device: deviceBlock.optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  retain: z.boolean().optional(),
  availability_topic: z.string().optional(),
  payload_available: payload.optional(),
  payload_not_available: payload.optional(),
  availability_template: z.string().optional(),
  availability: z.array(availabilityEntry).max(16).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
  brightness_scale: z.number().int().positive().optional(),
  schema: z.enum(['default', 'basic', 'json', 'template']).optional(),
  device_class: z.string().nullable().optional(),
});

/** Lower-case, a-z0-9_ and -; what device ids and attribute names are made of. */
export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, 64);
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * Parses one discovery message into its entities. `owner` is the credential that published it; it
 * names the device when the config carries no device block. An empty payload removes what the topic
 * announced (HA convention).
 */
export function parseDiscovery(discoveryTopic: string, payloadText: string, owner: string): DiscoveryResult {
  const where = parseDiscoveryTopic(discoveryTopic);
  if (!where) return { ok: false, error: `${discoveryTopic}: not a discovery topic` };
  if (payloadText.length === 0) return { ok: true, removed: true };
  const device = where.component === 'device';
  if (!device && !(where.component in BUILDERS))
    return { ok: false, error: `${discoveryTopic}: component "${where.component}" is not supported (supported: ${COMPONENTS.join(', ')})` };
  const raw = parseJson(payloadText);
  if (raw === undefined) return { ok: false, error: `${discoveryTopic}: payload is not JSON` };
  if (!isRecord(raw)) return { ok: false, error: `${discoveryTopic}: payload is not a JSON object` };
  try {
    if (!device) return { ok: true, entities: [entityOf(discoveryTopic, where.component, where, expandDiscoveryPayload(raw), owner)] };
    return { ok: true, entities: deviceEntities(discoveryTopic, where, raw, owner) };
  } catch (err) {
    if (err instanceof TemplateError || err instanceof DiscoveryError) return { ok: false, error: `${discoveryTopic}: ${err.message}` };
    throw err;
  }
}

/** Shared options of a device discovery message that its components inherit (HA: state_topic, command_topic, qos, availability, ...). */
const INHERITED = [
  'state_topic',
  'command_topic',
  'qos',
  'retain',
  'availability',
  'availability_topic',
  'availability_template',
  'payload_available',
  'payload_not_available',
  'encoding',
];
/** components one device message may carry */
const MAX_COMPONENTS = 64;

function deviceEntities(
  discoveryTopic: string,
  where: { nodeId: string | undefined; objectId: string },
  raw: Record<string, unknown>,
  owner: string,
): EntityConfig[] {
  const top = expandDiscoveryPayload(raw);
  if (!isRecord(top.device)) throw new DiscoveryError('device: required in a device discovery message');
  if (!isRecord(top.origin) || typeof top.origin.name !== 'string') throw new DiscoveryError('origin.name: required in a device discovery message');
  const components = top.components;
  if (!isRecord(components) || Object.keys(components).length === 0) throw new DiscoveryError('components: expected an object of components');
  if (Object.keys(components).length > MAX_COMPONENTS) throw new DiscoveryError(`components: at most ${MAX_COMPONENTS}`);
  const entities: EntityConfig[] = [];
  for (const [objectId, rawComponent] of Object.entries(components)) {
    if (!isRecord(rawComponent)) throw new DiscoveryError(`components.${objectId}: expected an object`);
    const c = expandDiscoveryPayload(rawComponent);
    const component = c.platform;
    if (typeof component !== 'string' || !(component in BUILDERS))
      throw new DiscoveryError(`components.${objectId}.platform: ${JSON.stringify(component)} is not supported (supported: ${COMPONENTS.join(', ')})`);
    if (Object.keys(c).length === 1) continue; // only `platform`: HA's way to remove one component
    const merged: Record<string, unknown> = { device: top.device };
    for (const k of INHERITED) if (top[k] !== undefined) merged[k] = top[k];
    Object.assign(merged, c);
    try {
      entities.push(entityOf(`${discoveryTopic}#${objectId}`, component, { nodeId: where.objectId, objectId }, merged, owner));
    } catch (err) {
      if (err instanceof TemplateError || err instanceof DiscoveryError) throw new DiscoveryError(`components.${objectId}: ${err.message}`);
      throw err;
    }
  }
  return entities;
}

function entityOf(
  key: string,
  component: string,
  where: { nodeId: string | undefined; objectId: string },
  expanded: Record<string, unknown>,
  owner: string,
): EntityConfig {
  const parsed = commonSchema.safeParse(expanded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DiscoveryError(`${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`);
  }
  const c = parsed.data as Config & z.infer<typeof commonSchema>;
  const topics: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (!k.endsWith('_topic') && k !== 'topic') continue;
    if (typeof v !== 'string' || !isValidTopicName(v)) throw new DiscoveryError(`${k}: expected an MQTT topic name without wildcards`);
    topics.push(v);
  }
  const ids = c.device?.identifiers;
  const firstId = Array.isArray(ids) ? ids[0] : ids;
  const deviceId = slug(firstId ?? where.nodeId ?? owner);
  if (!deviceId) throw new DiscoveryError('device.identifiers: cannot derive a device id');
  const device: DeviceInfo = {
    id: deviceId,
    name: c.device?.name ?? where.nodeId ?? firstId ?? owner,
    manufacturer: c.device?.manufacturer,
    model: c.device?.model,
    swVersion: c.device?.sw_version,
    unnamed: c.device?.name === undefined,
  };
  // The topic's object id names the attribute (`.../temperature/config` -> temperature); the payload's
  // object_id is HA's entity-id hint and often repeats the device name (Zigbee2MQTT).
  const attribute = attributeName(where.objectId, firstId);
  if (!attribute) throw new DiscoveryError('object_id: cannot derive an attribute name');
  if (reservedName(attribute)) throw new DiscoveryError(`object_id: "${attribute}" is a reserved name, not an attribute's`);
  const availability = availabilityOf(c);
  for (const a of availability) {
    if (!isValidTopicName(a.topic)) throw new DiscoveryError('availability.topic: expected an MQTT topic name without wildcards');
    topics.push(a.topic);
  }
  const ctx: ComponentContext = {
    c,
    base: attribute,
    // `name: null` means "just the device's name" (HA); a name that repeats the device's adds nothing
    name: typeof c.name === 'string' && c.name.trim() !== '' ? c.name : undefined,
    qos: c.qos === undefined || c.qos === 0 ? 0 : 1,
    retain: c.retain ?? false,
    attributes: {},
    readers: [],
    writers: {},
    warnings: [],
  };
  (BUILDERS[component] as ComponentBuilder)(ctx);
  return {
    discoveryTopic: key,
    component,
    attribute,
    device,
    attributes: ctx.attributes,
    readers: ctx.readers,
    writers: ctx.writers,
    availability,
    topics: [...new Set(topics)],
    warnings: ctx.warnings,
  };
}

function availabilityOf(c: z.infer<typeof commonSchema>): Availability[] {
  const out: Availability[] = [];
  if (c.availability_topic)
    out.push({
      topic: c.availability_topic,
      payloadAvailable: c.payload_available ?? 'online',
      payloadNotAvailable: c.payload_not_available ?? 'offline',
      template: c.availability_template ? compileTemplate(c.availability_template) : undefined,
    });
  for (const a of c.availability ?? [])
    out.push({
      topic: a.topic,
      payloadAvailable: a.payload_available ?? 'online',
      payloadNotAvailable: a.payload_not_available ?? 'offline',
      template: a.value_template ? compileTemplate(a.value_template) : undefined,
    });
  return out;
}

/** `35EBF6_ENERGY_Power` with device id `35EBF6` -> `energy_power`; `temperature` -> `temperature`. */
function attributeName(objectId: string, deviceIdentifier: string | undefined): string {
  let name = objectId;
  if (deviceIdentifier && name.length > deviceIdentifier.length + 1 && name.toLowerCase().startsWith(`${deviceIdentifier.toLowerCase()}_`)) {
    name = name.slice(deviceIdentifier.length + 1);
  }
  return slug(name);
}
