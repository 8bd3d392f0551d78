import { z } from 'zod';
import type { AttributeSpec } from '../types.ts';
import { expandDiscoveryPayload } from './abbreviations.ts';
import { compileTemplate, TemplateError, type CompiledTemplate } from './template.ts';
import { isValidTopicName, parseDiscoveryTopic } from './topics.ts';

/**
 * Home Assistant MQTT discovery [https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery]:
 * a retained JSON config on `homeassistant/<component>/[<node_id>/]<object_id>/config` describes one
 * entity; entities sharing `device.identifiers` form one device. Trellis reads the components sensor,
 * binary_sensor, switch, light (on/off and brightness; default and json schemas) and number.
 */
export const COMPONENTS = ['sensor', 'binary_sensor', 'switch', 'light', 'number'] as const;
export type Component = (typeof COMPONENTS)[number];

export type Payload = string | number | boolean;

export interface Availability {
  readonly topic: string;
  readonly payloadAvailable: Payload;
  readonly payloadNotAvailable: Payload;
  readonly template: CompiledTemplate | undefined;
}

export interface DeviceInfo {
  readonly id: string;
  readonly name: string;
  readonly manufacturer: string | undefined;
  readonly model: string | undefined;
  readonly swVersion: string | undefined;
}

/** One discovered entity, validated and with its templates compiled. */
export interface EntityConfig {
  readonly discoveryTopic: string;
  readonly component: Component;
  readonly attribute: string;
  readonly device: DeviceInfo;
  readonly spec: AttributeSpec;
  readonly stateTopic: string | undefined;
  readonly valueTemplate: CompiledTemplate | undefined;
  readonly commandTopic: string | undefined;
  readonly payloadOn: Payload;
  readonly payloadOff: Payload;
  readonly stateOn: Payload;
  readonly stateOff: Payload;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** Lights only. */
  readonly light:
    | {
        readonly schema: 'default' | 'json';
        readonly brightness: boolean;
        readonly brightnessScale: number;
        readonly brightnessStateTopic: string | undefined;
        readonly brightnessCommandTopic: string | undefined;
        readonly brightnessTemplate: CompiledTemplate | undefined;
      }
    | undefined;
  readonly availability: readonly Availability[];
  /** Every topic the config names; all must belong to the publishing device. */
  readonly topics: readonly string[];
}

export type DiscoveryResult = { ok: true; entity: EntityConfig } | { ok: false; error: string } | { ok: true; removed: true };

const topic = z.string().refine(isValidTopicName, { message: 'expected an MQTT topic name without wildcards' });
const payload = z.union([z.string(), z.number(), z.boolean()]);
const identifiers = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const availabilityEntry = z.object({
  topic,
  payload_available: payload.optional(),
  payload_not_available: payload.optional(),
  value_template: z.string().optional(),
});

const configSchema = z.object({
  name: z.string().nullable().optional(),
  unique_id: z.string().optional(),
  object_id: z.string().optional(),
  device: z
    .object({
      identifiers: identifiers.optional(),
      name: z.string().optional(),
      manufacturer: z.string().optional(),
      model: z.string().optional(),
      sw_version: z.string().optional(),
    })
    .optional(),
  state_topic: topic.optional(),
  command_topic: topic.optional(),
  value_template: z.string().optional(),
  state_value_template: z.string().optional(),
  unit_of_measurement: z.string().optional(),
  device_class: z.string().nullable().optional(),
  state_class: z.string().optional(),
  payload_on: payload.optional(),
  payload_off: payload.optional(),
  state_on: payload.optional(),
  state_off: payload.optional(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  retain: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
  schema: z.enum(['default', 'basic', 'json', 'template']).optional(),
  brightness: z.boolean().optional(),
  brightness_scale: z.number().int().positive().optional(),
  brightness_state_topic: topic.optional(),
  brightness_command_topic: topic.optional(),
  brightness_value_template: z.string().optional(),
  availability_topic: topic.optional(),
  payload_available: payload.optional(),
  payload_not_available: payload.optional(),
  availability_template: z.string().optional(),
  availability: z.array(availabilityEntry).optional(),
});

/** Sensor device classes whose states are numbers (HA's SensorDeviceClass, minus enum/timestamp/date). */
const NON_NUMERIC_SENSOR_CLASSES = new Set(['enum', 'timestamp', 'date']);

/** Lower-case, a-z0-9_ and -; what device ids and attribute names are made of. */
export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[_-]+|[_-]+$/g, '')
    .slice(0, 64);
}

/**
 * Parses one discovery message. `owner` is the credential that published it; it names the device when
 * the config carries no device block. An empty payload removes the entity (HA convention).
 */
export function parseDiscovery(discoveryTopic: string, payloadText: string, owner: string): DiscoveryResult {
  const where = parseDiscoveryTopic(discoveryTopic);
  if (!where) return { ok: false, error: `${discoveryTopic}: not a discovery topic` };
  if (payloadText.length === 0) return { ok: true, removed: true };
  if (!(COMPONENTS as readonly string[]).includes(where.component)) {
    return { ok: false, error: `${discoveryTopic}: component "${where.component}" is not supported (supported: ${COMPONENTS.join(', ')})` };
  }
  const component = where.component as Component;
  let raw: unknown;
  try {
    raw = JSON.parse(payloadText);
  } catch {
    return { ok: false, error: `${discoveryTopic}: payload is not JSON` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: `${discoveryTopic}: payload is not a JSON object` };
  const parsed = configSchema.safeParse(expandDiscoveryPayload(raw as Record<string, unknown>));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${discoveryTopic}: ${issue?.path.join('.') || 'payload'}: ${issue?.message ?? 'invalid'}` };
  }
  try {
    return { ok: true, entity: buildEntity(discoveryTopic, component, where, parsed.data, owner) };
  } catch (err) {
    if (err instanceof TemplateError || err instanceof DiscoveryError) return { ok: false, error: `${discoveryTopic}: ${err.message}` };
    throw err;
  }
}

class DiscoveryError extends Error {}

type Parsed = z.infer<typeof configSchema>;

function buildEntity(
  discoveryTopic: string,
  component: Component,
  where: { nodeId: string | undefined; objectId: string },
  c: Parsed,
  owner: string,
): EntityConfig {
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
  };
  // The topic's object id names the attribute (`.../temperature/config` -> temperature); the payload's
  // object_id is HA's entity-id hint and often repeats the device name (Zigbee2MQTT).
  const attribute = attributeName(where.objectId, firstId);
  if (!attribute) throw new DiscoveryError('object_id: cannot derive an attribute name');

  const stateTopic = c.state_topic;
  const commandTopic = c.command_topic;
  if (component !== 'light' && component !== 'switch' && component !== 'number' && !stateTopic) {
    throw new DiscoveryError('state_topic: required');
  }
  if ((component === 'switch' || component === 'number' || component === 'light') && !commandTopic) {
    throw new DiscoveryError('command_topic: required');
  }
  const payloadOn = c.payload_on ?? 'ON';
  const payloadOff = c.payload_off ?? 'OFF';
  const deviceClass = c.device_class ?? undefined;

  let spec: AttributeSpec;
  switch (component) {
    case 'sensor': {
      const numeric =
        c.unit_of_measurement !== undefined || c.state_class !== undefined || (deviceClass !== undefined && !NON_NUMERIC_SENSOR_CLASSES.has(deviceClass));
      spec = { type: numeric ? 'number' : 'string', unit: c.unit_of_measurement, deviceClass, stateClass: c.state_class, writable: false };
      break;
    }
    case 'binary_sensor':
      spec = { type: 'boolean', deviceClass, writable: false };
      break;
    case 'switch':
      spec = { type: 'boolean', deviceClass, writable: true };
      break;
    case 'light':
      spec = { type: 'boolean', deviceClass, writable: true };
      break;
    case 'number':
      spec = { type: 'number', unit: c.unit_of_measurement, deviceClass, writable: true, min: c.min ?? 1, max: c.max ?? 100, step: c.step ?? 1 };
      break;
  }

  const schema = c.schema === 'json' ? 'json' : c.schema === 'template' ? undefined : 'default';
  if (component === 'light' && !schema) throw new DiscoveryError('schema: "template" lights are not supported (use default or json)');
  const light =
    component === 'light'
      ? {
          schema: schema as 'default' | 'json',
          brightness: schema === 'json' ? c.brightness === true : c.brightness_command_topic !== undefined,
          brightnessScale: c.brightness_scale ?? 255,
          brightnessStateTopic: c.brightness_state_topic,
          brightnessCommandTopic: c.brightness_command_topic,
          brightnessTemplate: c.brightness_value_template ? compileTemplate(c.brightness_value_template) : undefined,
        }
      : undefined;

  const availability: Availability[] = [];
  if (c.availability_topic) {
    availability.push({
      topic: c.availability_topic,
      payloadAvailable: c.payload_available ?? 'online',
      payloadNotAvailable: c.payload_not_available ?? 'offline',
      template: c.availability_template ? compileTemplate(c.availability_template) : undefined,
    });
  }
  for (const a of c.availability ?? []) {
    availability.push({
      topic: a.topic,
      payloadAvailable: a.payload_available ?? 'online',
      payloadNotAvailable: a.payload_not_available ?? 'offline',
      template: a.value_template ? compileTemplate(a.value_template) : undefined,
    });
  }
  const template = c.value_template ?? c.state_value_template;
  const topics = [stateTopic, commandTopic, light?.brightnessStateTopic, light?.brightnessCommandTopic, ...availability.map((a) => a.topic)].filter(
    (t): t is string => t !== undefined,
  );
  return {
    discoveryTopic,
    component,
    attribute,
    device,
    spec,
    stateTopic,
    valueTemplate: template ? compileTemplate(template) : undefined,
    commandTopic,
    payloadOn,
    payloadOff,
    stateOn: c.state_on ?? payloadOn,
    stateOff: c.state_off ?? payloadOff,
    qos: c.qos === undefined || c.qos === 0 ? 0 : 1,
    retain: c.retain ?? false,
    light,
    availability,
    topics,
  };
}

/** `35EBF6_ENERGY_Power` with device id `35EBF6` -> `energy_power`; `temperature` -> `temperature`. */
function attributeName(objectId: string, deviceIdentifier: string | undefined): string {
  let name = objectId;
  if (deviceIdentifier && name.length > deviceIdentifier.length + 1 && name.toLowerCase().startsWith(`${deviceIdentifier.toLowerCase()}_`)) {
    name = name.slice(deviceIdentifier.length + 1);
  }
  return slug(name);
}
