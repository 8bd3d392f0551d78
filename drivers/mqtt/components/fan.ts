import { fieldReader, preview, toNumber } from '../entity.ts';
import { onOff } from './basic.ts';
import { type ComponentBuilder, field, labelled, list, modeField, num, payloadOf, required, str, templateAt, writer } from './kit.ts';

/**
 * fan: on/off, a speed as 0-100 % (from `speed_range_min`..`speed_range_max`), a preset mode and
 * oscillation, each on its own topics.
 */
export const fan: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const commandTopic = required(c, 'command_topic');
  const on = payloadOf(c, 'payload_on', 'ON');
  const off = payloadOf(c, 'payload_off', 'OFF');
  ctx.attributes[ctx.base] = { type: 'boolean', writable: true, name: ctx.name };
  const stateTopic = str(c, 'state_topic');
  const t = templateAt(ctx, 'state_value_template');
  if (stateTopic && t.usable) ctx.readers.push(fieldReader(stateTopic, t.template, ctx.base, onOff(on, off)));
  const w = writer(ctx, commandTopic, 'command_template', (v) => String(v ? on : off));
  if (w) ctx.writers[ctx.base] = w;

  const low = num(c, 'speed_range_min') ?? 1;
  const high = num(c, 'speed_range_max') ?? 100;
  const pctCmd = str(c, 'percentage_command_topic');
  const pctState = str(c, 'percentage_state_topic');
  if (pctCmd || pctState) {
    const speed = field(ctx, 'percentage');
    ctx.attributes[speed] = { type: 'number', unit: '%', writable: false, min: 0, max: 100, step: 1, name: labelled(ctx, 'speed') };
    const pt = templateAt(ctx, 'percentage_value_template');
    if (pctState && pt.usable)
      ctx.readers.push(
        fieldReader(pctState, pt.template, speed, (raw) => {
          const n = toNumber(raw);
          if (n === undefined) return { error: `expected a number, got ${preview(raw)}` };
          return n <= 0 ? 0 : Math.round(((n - low + 1) / (high - low + 1)) * 1000) / 10;
        }),
      );
    const pw = pctCmd
      ? writer(ctx, pctCmd, 'percentage_command_template', (v) => String(Number(v) <= 0 ? 0 : Math.ceil((Number(v) / 100) * (high - low + 1)) + low - 1))
      : undefined;
    if (pw) {
      ctx.writers[speed] = pw;
      ctx.attributes[speed] = { ...ctx.attributes[speed], writable: true } as (typeof ctx.attributes)[string];
    }
  }

  const presets = list(c, 'preset_modes');
  if (presets && presets.length > 0)
    modeField(ctx, 'preset_mode', 'preset', presets, {
      state: 'preset_mode_state_topic',
      stateTpl: 'preset_mode_value_template',
      cmd: 'preset_mode_command_topic',
      cmdTpl: 'preset_mode_command_template',
    });

  const oscCmd = str(c, 'oscillation_command_topic');
  const oscState = str(c, 'oscillation_state_topic');
  if (oscCmd || oscState) {
    const osc = field(ctx, 'oscillation');
    const oscOn = payloadOf(c, 'payload_oscillation_on', 'oscillate_on');
    const oscOff = payloadOf(c, 'payload_oscillation_off', 'oscillate_off');
    ctx.attributes[osc] = { type: 'boolean', writable: oscCmd !== undefined, name: labelled(ctx, 'oscillating') };
    const ot = templateAt(ctx, 'oscillation_value_template');
    if (oscState && ot.usable) ctx.readers.push(fieldReader(oscState, ot.template, osc, onOff(oscOn, oscOff)));
    const ow = oscCmd ? writer(ctx, oscCmd, 'oscillation_command_template', (v) => String(v ? oscOn : oscOff)) : undefined;
    if (ow) ctx.writers[osc] = ow;
  }
};
