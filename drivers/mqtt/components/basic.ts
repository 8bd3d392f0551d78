import type { AttributeValue } from '../../types.ts';
import { asNumber, DiscoveryError, fieldReader, matches, oneOf, type Payload, preview } from '../entity.ts';
import { compileTemplate } from '../template.ts';
import { type ComponentBuilder, type ComponentContext, list, num, payloadOf, required, str, templateAt, writer } from './kit.ts';

/** Sensor device classes whose states are not numbers (HA's SensorDeviceClass enum, timestamp, date). */
const NON_NUMERIC_SENSOR_CLASSES = new Set(['enum', 'timestamp', 'date']);

/** The value template of the main state (`value_template`, or a light's `state_value_template`). */
const mainTemplate = (ctx: ComponentContext) => templateAt(ctx, ctx.c.value_template !== undefined ? 'value_template' : 'state_value_template');

/** true for `on`, false for `off`, else an error naming both. */
export const onOff = (on: Payload, off: Payload) => (raw: unknown) => {
  if (matches(raw, on)) return true;
  if (matches(raw, off)) return false;
  return { error: `expected ${JSON.stringify(on)} or ${JSON.stringify(off)}, got ${preview(raw)}` };
};

/** A boolean attribute read from `state_topic` (state_on/state_off, else payload_on/payload_off). */
function booleanState(ctx: ComponentContext): void {
  const topic = str(ctx.c, 'state_topic');
  if (!topic) return;
  const on = payloadOf(ctx.c, 'state_on', payloadOf(ctx.c, 'payload_on', 'ON'));
  const off = payloadOf(ctx.c, 'state_off', payloadOf(ctx.c, 'payload_off', 'OFF'));
  const t = mainTemplate(ctx);
  if (t.usable) ctx.readers.push(fieldReader(topic, t.template, ctx.base, onOff(on, off)));
}

/** A state read as text, from `state_topic` when there is one. */
function textState(
  ctx: ComponentContext,
  convert: (raw: unknown) => AttributeValue | { error: string } = (raw) => (typeof raw === 'string' ? raw : JSON.stringify(raw)),
) {
  const topic = str(ctx.c, 'state_topic');
  if (!topic) return;
  const t = mainTemplate(ctx);
  if (t.usable) ctx.readers.push(fieldReader(topic, t.template, ctx.base, convert));
}

const sensor: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const topic = required(c, 'state_topic');
  const deviceClass = str(c, 'device_class');
  const unit = str(c, 'unit_of_measurement');
  const stateClass = str(c, 'state_class');
  const options = list(c, 'options');
  const numeric = !options && (unit !== undefined || stateClass !== undefined || (deviceClass !== undefined && !NON_NUMERIC_SENSOR_CLASSES.has(deviceClass)));
  ctx.attributes[ctx.base] = { type: numeric ? 'number' : 'string', unit, deviceClass, stateClass, writable: false, name: ctx.name, options };
  // a sensor is its state: a template Trellis cannot evaluate refuses the entity, naming the template
  const source = str(c, 'value_template');
  const template = source === undefined ? undefined : compileTemplate(source);
  ctx.readers.push(
    fieldReader(topic, template, ctx.base, numeric ? asNumber : options ? oneOf(options) : (raw) => (typeof raw === 'string' ? raw : JSON.stringify(raw))),
  );
};

const binarySensor: ComponentBuilder = (ctx) => {
  const topic = required(ctx.c, 'state_topic');
  ctx.attributes[ctx.base] = { type: 'boolean', deviceClass: str(ctx.c, 'device_class'), writable: false, name: ctx.name };
  const source = str(ctx.c, 'value_template');
  const on = payloadOf(ctx.c, 'payload_on', 'ON');
  const off = payloadOf(ctx.c, 'payload_off', 'OFF');
  ctx.readers.push(
    fieldReader(
      topic,
      source === undefined ? undefined : compileTemplate(source),
      ctx.base,
      onOff(payloadOf(ctx.c, 'state_on', on), payloadOf(ctx.c, 'state_off', off)),
    ),
  );
};

/** switch and siren: on/off, commanded with payload_on/payload_off. */
const onOffSwitch: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const topic = required(c, 'command_topic');
  const on = payloadOf(c, 'payload_on', 'ON');
  const off = payloadOf(c, 'payload_off', 'OFF');
  ctx.attributes[ctx.base] = { type: 'boolean', deviceClass: str(c, 'device_class'), writable: true, name: ctx.name };
  booleanState(ctx);
  const w = writer(ctx, topic, undefined, (v) => String(v ? on : off));
  if (w) ctx.writers[ctx.base] = w;
};

const number: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const topic = required(c, 'command_topic');
  ctx.attributes[ctx.base] = {
    type: 'number',
    unit: str(c, 'unit_of_measurement'),
    deviceClass: str(c, 'device_class'),
    writable: true,
    min: num(c, 'min') ?? 1,
    max: num(c, 'max') ?? 100,
    step: num(c, 'step') ?? 1,
    name: ctx.name,
  };
  textState(ctx, asNumber);
  const w = writer(ctx, topic, 'command_template', (v) => String(v));
  if (w) ctx.writers[ctx.base] = w;
};

const select: ComponentBuilder = (ctx) => {
  const topic = required(ctx.c, 'command_topic');
  const options = list(ctx.c, 'options');
  if (!options || options.length === 0) throw new DiscoveryError('options: required');
  ctx.attributes[ctx.base] = { type: 'string', writable: true, options, name: ctx.name };
  textState(ctx, oneOf(options));
  const w = writer(ctx, topic, 'command_template', (v) =>
    options.includes(String(v)) ? String(v) : { error: `${ctx.base}: expected one of ${options.join(', ')}` },
  );
  if (w) ctx.writers[ctx.base] = w;
};

const text: ComponentBuilder = (ctx) => {
  const topic = required(ctx.c, 'command_topic');
  const min = num(ctx.c, 'min') ?? 0;
  const max = Math.min(num(ctx.c, 'max') ?? 255, 255);
  ctx.attributes[ctx.base] = { type: 'string', writable: true, name: ctx.name };
  textState(ctx);
  const w = writer(ctx, topic, 'command_template', (v) => {
    const s = String(v);
    return s.length < min || s.length > max ? { error: `${ctx.base}: expected ${min} to ${max} characters, got ${s.length}` } : s;
  });
  if (w) ctx.writers[ctx.base] = w;
};

/** button and scene: a command presses it; nothing is reported. */
const press =
  (payloadKey: string, fallback: string): ComponentBuilder =>
  (ctx) => {
    const topic = required(ctx.c, 'command_topic');
    const payload = String(payloadOf(ctx.c, payloadKey, fallback));
    ctx.attributes[ctx.base] = { type: 'boolean', deviceClass: str(ctx.c, 'device_class'), writable: true, momentary: true, name: ctx.name };
    const w = writer(ctx, topic, undefined, () => payload);
    if (w) ctx.writers[ctx.base] = w;
  };

export const BASIC: Readonly<Record<string, ComponentBuilder>> = {
  sensor,
  binary_sensor: binarySensor,
  switch: onOffSwitch,
  siren: onOffSwitch,
  number,
  select,
  text,
  button: press('payload_press', 'PRESS'),
  scene: press('payload_on', 'ON'),
};
