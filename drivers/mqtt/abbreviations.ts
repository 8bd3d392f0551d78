/**
 * Home Assistant MQTT discovery abbreviations (the subset for the components Trellis reads). Tasmota
 * and ESPHome send abbreviated keys to keep payloads small; they are expanded before validation.
 */
export const ABBREVIATIONS: Readonly<Record<string, string>> = {
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
  dev: 'device',
  dev_cla: 'device_class',
  ent_cat: 'entity_category',
  exp_aft: 'expire_after',
  frc_upd: 'force_update',
  ic: 'icon',
  json_attr_t: 'json_attributes_topic',
  json_attr_tpl: 'json_attributes_template',
  max: 'max',
  min: 'min',
  mode: 'mode',
  o: 'origin',
  obj_id: 'object_id',
  opt: 'optimistic',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off',
  pl_on: 'payload_on',
  ret: 'retain',
  schema: 'schema',
  stat_cla: 'state_class',
  stat_off: 'state_off',
  stat_on: 'state_on',
  stat_t: 'state_topic',
  stat_val_tpl: 'state_value_template',
  step: 'step',
  uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement',
  val_tpl: 'value_template',
  t: 'topic',
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
