/**
 * Home Assistant MQTT discovery abbreviations (the subset for the components Trellis reads, from HA's
 * documented table). Tasmota and ESPHome send abbreviated keys to keep payloads small; they are
 * expanded before validation, in a device message's `cmps` entries too.
 */
export const ABBREVIATIONS: Readonly<Record<string, string>> = {
  act_t: 'action_topic',
  act_tpl: 'action_template',
  atype: 'automation_type',
  avty: 'availability',
  avty_mode: 'availability_mode',
  avty_t: 'availability_topic',
  avty_tpl: 'availability_template',
  bri: 'brightness',
  bri_cmd_t: 'brightness_command_topic',
  bri_scl: 'brightness_scale',
  bri_stat_t: 'brightness_state_topic',
  bri_val_tpl: 'brightness_value_template',
  cmd_t: 'command_topic',
  cmd_tpl: 'command_template',
  cmps: 'components',
  curr_hum_t: 'current_humidity_topic',
  curr_hum_tpl: 'current_humidity_template',
  curr_temp_t: 'current_temperature_topic',
  curr_temp_tpl: 'current_temperature_template',
  dev: 'device',
  dev_cla: 'device_class',
  ent_cat: 'entity_category',
  evt_typ: 'event_types',
  exp_aft: 'expire_after',
  fan_mode_cmd_t: 'fan_mode_command_topic',
  fan_mode_cmd_tpl: 'fan_mode_command_template',
  fan_mode_stat_t: 'fan_mode_state_topic',
  fan_mode_stat_tpl: 'fan_mode_state_template',
  frc_upd: 'force_update',
  hum_cmd_t: 'target_humidity_command_topic',
  hum_cmd_tpl: 'target_humidity_command_template',
  hum_stat_t: 'target_humidity_state_topic',
  hum_state_tpl: 'target_humidity_state_template',
  ic: 'icon',
  json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template',
  max: 'max',
  max_hum: 'max_humidity',
  max_temp: 'max_temp',
  min: 'min',
  min_hum: 'min_humidity',
  min_temp: 'min_temp',
  mode: 'mode',
  mode_cmd_t: 'mode_command_topic',
  mode_cmd_tpl: 'mode_command_template',
  mode_stat_t: 'mode_state_topic',
  mode_stat_tpl: 'mode_state_template',
  modes: 'modes',
  o: 'origin',
  obj_id: 'object_id',
  ops: 'options',
  opt: 'optimistic',
  osc_cmd_t: 'oscillation_command_topic',
  osc_cmd_tpl: 'oscillation_command_template',
  osc_stat_t: 'oscillation_state_topic',
  osc_val_tpl: 'oscillation_value_template',
  p: 'platform',
  pct_cmd_t: 'percentage_command_topic',
  pct_cmd_tpl: 'percentage_command_template',
  pct_stat_t: 'percentage_state_topic',
  pct_val_tpl: 'percentage_value_template',
  pl: 'payload',
  pl_avail: 'payload_available',
  pl_cls: 'payload_close',
  pl_lock: 'payload_lock',
  pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off',
  pl_on: 'payload_on',
  pl_open: 'payload_open',
  pl_osc_off: 'payload_oscillation_off',
  pl_osc_on: 'payload_oscillation_on',
  pl_prs: 'payload_press',
  pl_stop: 'payload_stop',
  pl_unlk: 'payload_unlock',
  pos_clsd: 'position_closed',
  pos_open: 'position_open',
  pos_t: 'position_topic',
  pos_tpl: 'position_template',
  pr_mode_cmd_t: 'preset_mode_command_topic',
  pr_mode_cmd_tpl: 'preset_mode_command_template',
  pr_mode_stat_t: 'preset_mode_state_topic',
  pr_mode_val_tpl: 'preset_mode_value_template',
  pr_modes: 'preset_modes',
  prec: 'precision',
  ret: 'retain',
  schema: 'schema',
  set_pos_t: 'set_position_topic',
  set_pos_tpl: 'set_position_template',
  spd_rng_max: 'speed_range_max',
  spd_rng_min: 'speed_range_min',
  stat_cla: 'state_class',
  stat_closing: 'state_closing',
  stat_clsd: 'state_closed',
  stat_jam: 'state_jammed',
  stat_locked: 'state_locked',
  stat_locking: 'state_locking',
  stat_off: 'state_off',
  stat_on: 'state_on',
  stat_open: 'state_open',
  stat_opening: 'state_opening',
  stat_stopped: 'state_stopped',
  stat_t: 'state_topic',
  stat_unlocked: 'state_unlocked',
  stat_unlocking: 'state_unlocking',
  stat_val_tpl: 'state_value_template',
  step: 'step',
  stype: 'subtype',
  swing_mode_cmd_t: 'swing_mode_command_topic',
  swing_mode_cmd_tpl: 'swing_mode_command_template',
  swing_mode_stat_t: 'swing_mode_state_topic',
  swing_mode_stat_tpl: 'swing_mode_state_template',
  t: 'topic',
  temp_cmd_t: 'temperature_command_topic',
  temp_cmd_tpl: 'temperature_command_template',
  temp_hi_cmd_t: 'temperature_high_command_topic',
  temp_hi_cmd_tpl: 'temperature_high_command_template',
  temp_hi_stat_t: 'temperature_high_state_topic',
  temp_hi_stat_tpl: 'temperature_high_state_template',
  temp_lo_cmd_t: 'temperature_low_command_topic',
  temp_lo_cmd_tpl: 'temperature_low_command_template',
  temp_lo_stat_t: 'temperature_low_state_topic',
  temp_lo_stat_tpl: 'temperature_low_state_template',
  temp_stat_t: 'temperature_state_topic',
  temp_stat_tpl: 'temperature_state_template',
  temp_unit: 'temperature_unit',
  tilt_clsd_val: 'tilt_closed_value',
  tilt_cmd_t: 'tilt_command_topic',
  tilt_cmd_tpl: 'tilt_command_template',
  tilt_max: 'tilt_max',
  tilt_min: 'tilt_min',
  tilt_opnd_val: 'tilt_opened_value',
  tilt_status_t: 'tilt_status_topic',
  tilt_status_tpl: 'tilt_status_template',
  uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement',
  val_tpl: 'value_template',
};

export const DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  cns: 'connections',
  cu: 'configuration_url',
  hw: 'hw_version',
  ids: 'identifiers',
  mdl: 'model',
  mf: 'manufacturer',
  sa: 'suggested_area',
  sw: 'sw_version',
  via_device: 'via_device',
};

/**
 * An own key of the table only (a payload key `constructor` must not find Object's); `__proto__`
 * becomes a key no schema knows, so it cannot set the prototype of the expanded object.
 */
const expand = (table: Readonly<Record<string, string>>, k: string): string =>
  k === '__proto__' ? '(__proto__)' : Object.hasOwn(table, k) ? (table[k] as string) : k;

/** Expands abbreviated keys, and the `~` base topic in every topic value [HA discovery: "~"]. */

export function expandDiscoveryPayload(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) out[expand(ABBREVIATIONS, key)] = value;
  const base = typeof out['~'] === 'string' ? (out['~'] as string) : undefined;
  const expandTopic = (v: unknown) =>
    base !== undefined && typeof v === 'string' ? (v.startsWith('~') ? base + v.slice(1) : v.endsWith('~') ? v.slice(0, -1) + base : v) : v;
  if (base !== undefined) {
    for (const key of Object.keys(out)) if (key.endsWith('_topic')) out[key] = expandTopic(out[key]);
  }
  if (Array.isArray(out.availability)) {
    out.availability = out.availability.map((a: unknown) => {
      if (a === null || typeof a !== 'object') return a;
      const entry: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(a)) entry[expand(ABBREVIATIONS, k)] = v;
      entry.topic = expandTopic(entry.topic);
      return entry;
    });
  }
  if (out.device !== null && typeof out.device === 'object' && !Array.isArray(out.device)) {
    const device: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(out.device)) device[expand(DEVICE_ABBREVIATIONS, k)] = v;
    out.device = device;
  }
  return out;
}
