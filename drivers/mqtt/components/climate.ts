import { asNumber, oneOf } from '../entity.ts';
import { type ComponentBuilder, type ComponentContext, command, field, labelled, list, modeField, num, read, str } from './kit.ts';

const DEFAULT_MODES = ['auto', 'off', 'cool', 'heat', 'dry', 'fan_only'];
const DEFAULT_FAN_MODES = ['auto', 'low', 'medium', 'high'];
const DEFAULT_SWING_MODES = ['on', 'off'];
const ACTIONS = ['off', 'heating', 'cooling', 'drying', 'idle', 'fan', 'preheating', 'defrosting'];

/** A temperature-like number field: current (read-only) or a target (commanded within min..max in steps). */
function numberField(
  ctx: ComponentContext,
  name: string,
  words: string,
  unit: string,
  range: { min: number; max: number; step: number } | undefined,
  keys: { state: string; stateTpl: string; cmd?: string; cmdTpl?: string },
) {
  const attribute = field(ctx, name);
  const reads = str(ctx.c, keys.state) !== undefined;
  const writes = keys.cmd !== undefined && str(ctx.c, keys.cmd) !== undefined;
  if (!reads && !writes) return;
  ctx.attributes[attribute] = { type: 'number', unit, writable: false, name: labelled(ctx, words), ...(range ?? {}) };
  read(ctx, keys.state, keys.stateTpl, attribute, asNumber);
  if (keys.cmd && keys.cmdTpl && command(ctx, keys.cmd, keys.cmdTpl, attribute, () => undefined))
    ctx.attributes[attribute] = { ...ctx.attributes[attribute], writable: true } as (typeof ctx.attributes)[string];
}

/**
 * climate (HVAC, a radiator valve, a heat pump): the HVAC mode as the base attribute, current and
 * target temperatures (a low/high pair for ranges), the current action, fan, swing and preset modes,
 * and humidity, each from its own state topic and to its own command topic, as the convention defines.
 */
export const climate: ComponentBuilder = (ctx) => {
  const c = ctx.c;
  const unit = str(c, 'temperature_unit') === 'F' ? '°F' : '°C';
  const step = num(c, 'temp_step') ?? num(c, 'precision') ?? (unit === '°F' ? 1 : 0.5);
  const range = { min: num(c, 'min_temp') ?? (unit === '°F' ? 44 : 7), max: num(c, 'max_temp') ?? (unit === '°F' ? 95 : 35), step };
  const modes = list(c, 'modes') ?? DEFAULT_MODES;
  // the mode is the entity's state (as in Home Assistant): the base attribute
  const modeWrites = str(c, 'mode_command_topic') !== undefined;
  if (modeWrites || str(c, 'mode_state_topic') !== undefined) {
    ctx.attributes[ctx.base] = { type: 'string', writable: modeWrites, options: modes, name: ctx.name ?? 'HVAC mode' };
    read(ctx, 'mode_state_topic', 'mode_state_template', ctx.base, oneOf(modes));
    if (!command(ctx, 'mode_command_topic', 'mode_command_template', ctx.base, (v) => (modes.includes(v) ? undefined : `expected one of ${modes.join(', ')}`)))
      ctx.attributes[ctx.base] = { ...ctx.attributes[ctx.base], writable: false } as (typeof ctx.attributes)[string];
  }

  numberField(ctx, 'current_temperature', 'current temperature', unit, undefined, {
    state: 'current_temperature_topic',
    stateTpl: 'current_temperature_template',
  });
  numberField(ctx, 'target_temperature', 'target temperature', unit, range, {
    state: 'temperature_state_topic',
    stateTpl: 'temperature_state_template',
    cmd: 'temperature_command_topic',
    cmdTpl: 'temperature_command_template',
  });
  numberField(ctx, 'target_temperature_low', 'lowest target temperature', unit, range, {
    state: 'temperature_low_state_topic',
    stateTpl: 'temperature_low_state_template',
    cmd: 'temperature_low_command_topic',
    cmdTpl: 'temperature_low_command_template',
  });
  numberField(ctx, 'target_temperature_high', 'highest target temperature', unit, range, {
    state: 'temperature_high_state_topic',
    stateTpl: 'temperature_high_state_template',
    cmd: 'temperature_high_command_topic',
    cmdTpl: 'temperature_high_command_template',
  });
  numberField(ctx, 'current_humidity', 'current humidity', '%', undefined, { state: 'current_humidity_topic', stateTpl: 'current_humidity_template' });
  numberField(
    ctx,
    'target_humidity',
    'target humidity',
    '%',
    { min: num(c, 'min_humidity') ?? 30, max: num(c, 'max_humidity') ?? 99, step: 1 },
    {
      state: 'target_humidity_state_topic',
      stateTpl: 'target_humidity_state_template',
      cmd: 'target_humidity_command_topic',
      cmdTpl: 'target_humidity_command_template',
    },
  );
  if (str(c, 'action_topic')) {
    const action = field(ctx, 'action');
    ctx.attributes[action] = { type: 'string', writable: false, options: ACTIONS, name: labelled(ctx, 'what it is doing') };
    read(ctx, 'action_topic', 'action_template', action, oneOf(ACTIONS));
  }
  modeField(ctx, 'fan_mode', 'fan mode', list(c, 'fan_modes') ?? DEFAULT_FAN_MODES, {
    state: 'fan_mode_state_topic',
    stateTpl: 'fan_mode_state_template',
    cmd: 'fan_mode_command_topic',
    cmdTpl: 'fan_mode_command_template',
  });
  modeField(ctx, 'swing_mode', 'swing', list(c, 'swing_modes') ?? DEFAULT_SWING_MODES, {
    state: 'swing_mode_state_topic',
    stateTpl: 'swing_mode_state_template',
    cmd: 'swing_mode_command_topic',
    cmdTpl: 'swing_mode_command_template',
  });
  const presets = list(c, 'preset_modes');
  if (presets && presets.length > 0)
    modeField(ctx, 'preset_mode', 'preset', presets, {
      state: 'preset_mode_state_topic',
      stateTpl: 'preset_mode_value_template',
      cmd: 'preset_mode_command_topic',
      cmdTpl: 'preset_mode_command_template',
    });
};
