import type { AttributeValue } from '../../types.ts';
import { type Decoded, DiscoveryError, fieldReader, matches, NOT_JSON, preview, toNumber } from '../entity.ts';
import { onOff } from './basic.ts';
import { type ComponentBuilder, type ComponentContext, bool, field, labelled, num, out, payloadOf, required, str, templateAt, writer } from './kit.ts';

const toPercent = (level: number, scale: number) => Math.round((Math.min(Math.max(level, 0), scale) / scale) * 1000) / 10;
const brightnessSpec = (ctx: ComponentContext) =>
  ({ type: 'number', unit: '%', writable: true, min: 0, max: 100, step: 1, name: labelled(ctx, 'brightness') }) as const;

/**
 * A light: on/off and brightness (0-100 %, scaled from `brightness_scale`), in the default schema
 * (separate state and brightness topics) or the json schema (`{"state": "ON", "brightness": 128}`).
 * The template schema is refused.
 */
export const light: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const schema = str(c, 'schema') ?? 'default';
  if (schema === 'template') throw new DiscoveryError('schema: "template" lights are not supported (use default or json)');
  const topic = required(c, 'command_topic');
  const scale = num(c, 'brightness_scale') ?? 255;
  ctx.attributes[ctx.base] = { type: 'boolean', deviceClass: str(c, 'device_class'), writable: true, name: ctx.name };
  const bright = field(ctx, 'brightness');
  if (schema === 'json') return jsonLight(ctx, topic, scale, bright);

  const on = payloadOf(c, 'payload_on', 'ON');
  const off = payloadOf(c, 'payload_off', 'OFF');
  const stateTopic = str(c, 'state_topic');
  const t = templateAt(ctx, c.state_value_template !== undefined ? 'state_value_template' : 'value_template');
  if (stateTopic && t.usable)
    ctx.readers.push(fieldReader(stateTopic, t.template, ctx.base, onOff(payloadOf(c, 'state_on', on), payloadOf(c, 'state_off', off))));
  const w = writer(ctx, topic, undefined, (v) => String(v ? on : off));
  if (w) ctx.writers[ctx.base] = w;

  const briCommand = str(c, 'brightness_command_topic');
  if (!briCommand) return;
  ctx.attributes[bright] = brightnessSpec(ctx);
  const briState = str(c, 'brightness_state_topic');
  const bt = templateAt(ctx, 'brightness_value_template');
  if (briState && bt.usable)
    ctx.readers.push(
      fieldReader(briState, bt.template, bright, (raw) => {
        const n = toNumber(raw);
        return n === undefined ? { error: `expected a number, got ${preview(raw)}` } : toPercent(n, scale);
      }),
    );
  ctx.writers[bright] = { encode: (v) => out(ctx, briCommand, String(Math.round((Number(v) / 100) * scale))) };
};

function jsonLight(ctx: ComponentContext, topic: string, scale: number, bright: string): void {
  const brightness = bool(ctx.c, 'brightness') === true;
  if (brightness) ctx.attributes[bright] = brightnessSpec(ctx);
  const stateTopic = str(ctx.c, 'state_topic');
  if (stateTopic)
    ctx.readers.push({
      topic: stateTopic,
      decode(_payload, json): Decoded {
        if (json === NOT_JSON || json === null || typeof json !== 'object') return { error: `${ctx.base}: expected a JSON object (json schema light)` };
        const body = json as Record<string, unknown>;
        const values: Array<[string, AttributeValue]> = [];
        if (body.state !== undefined) {
          if (matches(body.state, 'ON')) values.push([ctx.base, true]);
          else if (matches(body.state, 'OFF')) values.push([ctx.base, false]);
          else return { error: `${ctx.base}: state: expected "ON" or "OFF", got ${preview(body.state)}` };
        }
        if (brightness && body.brightness !== undefined) {
          const n = toNumber(body.brightness);
          if (n === undefined) return { error: `${ctx.base}: brightness: expected a number, got ${preview(body.brightness)}` };
          values.push([bright, toPercent(n, scale)]);
        }
        return { values };
      },
    });
  ctx.writers[ctx.base] = { encode: (v) => out(ctx, topic, JSON.stringify({ state: v ? 'ON' : 'OFF' })) };
  if (brightness)
    ctx.writers[bright] = {
      encode(v) {
        const level = Math.round((Number(v) / 100) * scale);
        return out(ctx, topic, JSON.stringify({ state: level === 0 ? 'OFF' : 'ON', brightness: level }));
      },
    };
}
