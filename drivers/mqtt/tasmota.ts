import { type AttributeSpec, reservedName } from '../types.ts';
import { onOff } from './components/basic.ts';
import { slug } from './discovery.ts';
import { tasmotaShutters } from './tasmotaShutters.ts';
import { type Availability, type CommandWriter, type EntityConfig, fieldReader, isRecord, NOT_JSON, preview, type StateReader, toNumber } from './entity.ts';

/**
 * Tasmota's own discovery (the default since Tasmota 9 with `SetOption19 0`): a retained
 * `tasmota/discovery/<MAC>/config` describes the device (its topic `t`, full-topic pattern `ft`,
 * prefixes `tp`, relays `rl` with friendly names `fn`, on/off words `state`, LWT payloads), and a
 * retained `tasmota/discovery/<MAC>/sensors` lists its sensors as Tasmota reports them in
 * `tele/<topic>/SENSOR` (`{"ENERGY": {"Power": 86, ...}, "DS18B20": {"Temperature": 21.3}}`). Relays
 * become boolean attributes (`power`, or `power1`..`power8`), each sensor field `<sensor>_<field>`.
 */
export const TASMOTA_PREFIX = 'tasmota/discovery/';

export interface TasmotaConfig {
  readonly mac: string;
  readonly topic: string;
  readonly fullTopic: string;
  readonly prefixes: readonly [string, string, string];
  readonly deviceName: string;
  readonly friendlyNames: readonly (string | null)[];
  readonly relays: readonly number[];
  readonly off: string;
  readonly on: string;
  readonly online: string;
  readonly offline: string;
  readonly model: string | undefined;
  readonly swVersion: string | undefined;
  /** `hn`, for a full topic with `%hostname%` */
  readonly hostname: string | undefined;
  /** `sho`: per shutter, bit 0 = inverted (Tasmota's 0 is open) */
  readonly shutterOptions: readonly number[];
}

const text = (v: unknown, key: string): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new TasmotaError(`${key}: expected a string`);
  return v;
};

export class TasmotaError extends Error {}

/** Validates a `config` message; throws a TasmotaError naming the field. */
export function parseTasmotaConfig(raw: unknown): TasmotaConfig {
  if (!isRecord(raw)) throw new TasmotaError('payload is not a JSON object');
  const tp = raw.tp;
  if (!Array.isArray(tp) || tp.length < 3 || tp.some((x) => typeof x !== 'string'))
    throw new TasmotaError('tp: expected the three prefixes [cmnd, stat, tele]');
  const ft = text(raw.ft, 'ft');
  if (/%(?!prefix%|topic%|hostname%|id%)[a-z]+%/.test(ft)) throw new TasmotaError(`ft: "${ft}": only %prefix%, %topic%, %hostname% and %id% are supported`);
  if (ft.includes('%hostname%') && (typeof raw.hn !== 'string' || raw.hn === '')) throw new TasmotaError('hn: expected the host name the full topic names');
  const rl = raw.rl;
  if (!Array.isArray(rl) || rl.length > 32 || rl.some((x) => typeof x !== 'number')) throw new TasmotaError('rl: expected a list of relay types');
  const fn = Array.isArray(raw.fn) ? raw.fn.map((x) => (typeof x === 'string' && x.length <= 100 ? x : null)) : [];
  const state = Array.isArray(raw.state) ? raw.state : ['OFF', 'ON'];
  return {
    mac: text(raw.mac, 'mac').toUpperCase(),
    topic: text(raw.t, 't'),
    fullTopic: ft,
    prefixes: [tp[0] as string, tp[1] as string, tp[2] as string],
    deviceName: typeof raw.dn === 'string' && raw.dn ? raw.dn : text(raw.t, 't'),
    friendlyNames: fn,
    relays: rl as number[],
    off: typeof state[0] === 'string' ? state[0] : 'OFF',
    on: typeof state[1] === 'string' ? state[1] : 'ON',
    online: typeof raw.onln === 'string' ? raw.onln : 'Online',
    offline: typeof raw.ofln === 'string' ? raw.ofln : 'Offline',
    model: typeof raw.md === 'string' ? raw.md : undefined,
    swVersion: typeof raw.sw === 'string' ? raw.sw : undefined,
    hostname: typeof raw.hn === 'string' && raw.hn.length <= 100 ? raw.hn : undefined,
    shutterOptions: Array.isArray(raw.sho) ? raw.sho.slice(0, 4).map((x) => (typeof x === 'number' ? x : 0)) : [],
  };
}

/** `cmnd/tasmota_35EBF6/POWER` from the full-topic pattern (`%id%` is the MAC without separators). */
export const topicFor = (c: TasmotaConfig, prefix: 0 | 1 | 2, command: string) =>
  `${c.fullTopic
    .replace('%prefix%', c.prefixes[prefix])
    .replace('%topic%', c.topic)
    .replace('%hostname%', c.hostname ?? '')
    .replace('%id%', c.mac)}${command}`;

/** Units and classes of the fields Tasmota's sensors report, by field name. */
function fieldSpec(field: string, tempUnit: string): Pick<AttributeSpec, 'unit' | 'deviceClass' | 'stateClass'> {
  const measurement = (unit: string, deviceClass?: string) => ({ unit, deviceClass, stateClass: 'measurement' });
  switch (field) {
    case 'Temperature':
    case 'DewPoint':
      return measurement(tempUnit === 'F' ? '°F' : '°C', 'temperature');
    case 'Humidity':
      return measurement('%', 'humidity');
    case 'Pressure':
      return measurement('hPa', 'pressure');
    case 'Power':
      return measurement('W', 'power');
    case 'ApparentPower':
      return measurement('VA', 'apparent_power');
    case 'ReactivePower':
      return measurement('var', 'reactive_power');
    case 'Voltage':
      return measurement('V', 'voltage');
    case 'Current':
      return measurement('A', 'current');
    case 'Illuminance':
      return measurement('lx', 'illuminance');
    case 'CarbonDioxide':
      return measurement('ppm', 'carbon_dioxide');
    case 'Total':
      return { unit: 'kWh', deviceClass: 'energy', stateClass: 'total_increasing' };
    case 'Today':
    case 'Yesterday':
      return { unit: 'kWh', deviceClass: 'energy' };
    default:
      return { stateClass: 'measurement' };
  }
}

/**
 * The entities of one Tasmota device from its config (and its sensors message, when it has arrived),
 * keyed `<discovery topic>#<attribute>` so that the driver's entity table keeps and replaces them.
 */
export function tasmotaEntities(c: TasmotaConfig, sensors: unknown): EntityConfig[] {
  const device = { id: slug(c.mac), name: c.deviceName, manufacturer: 'Tasmota', model: c.model, swVersion: c.swVersion };
  const lwt = topicFor(c, 2, 'LWT');
  const availability: Availability[] = [{ topic: lwt, payloadAvailable: c.online, payloadNotAvailable: c.offline, template: undefined }];
  const state = topicFor(c, 2, 'STATE');
  const result = topicFor(c, 1, 'RESULT');
  const configTopic = `${TASMOTA_PREFIX}${c.mac}/config`;
  const entities: EntityConfig[] = [];
  const relays = c.relays.map((type, i) => ({ type, i })).filter((r) => r.type === 1 || r.type === 2);
  const present = c.relays.filter((t) => t !== 0).length;
  for (const { i } of relays) {
    // Tasmota says POWER when it drives one relay of any kind (shutter relays count), else POWER<n>
    const key = present === 1 && i === 0 ? 'POWER' : `POWER${i + 1}`;
    const attribute = key.toLowerCase();
    const onOrOff = onOff(c.on, c.off);
    const fromJson: StateReader['decode'] = (_payload, json) => {
      if (json === NOT_JSON || !isRecord(json) || json[key] === undefined) return { values: [] };
      const v = onOrOff(json[key]);
      return typeof v === 'boolean' ? { values: [[attribute, v]] } : { error: `${attribute}: ${v.error}` };
    };
    const command = topicFor(c, 0, key);
    const writer: CommandWriter = { encode: (v) => ({ topic: command, payload: v ? c.on : c.off, qos: 0, retain: false }) };
    entities.push({
      discoveryTopic: `${configTopic}#${attribute}`,
      component: 'switch',
      attribute,
      device,
      attributes: { [attribute]: { type: 'boolean', writable: true, name: c.friendlyNames[i] ?? `Relay ${i + 1}` } },
      readers: [fieldReader(topicFor(c, 1, key), undefined, attribute, onOrOff), { topic: state, decode: fromJson }, { topic: result, decode: fromJson }],
      writers: { [attribute]: writer },
      availability,
      topics: [command, topicFor(c, 1, key), state, result, lwt],
      warnings: [],
    });
  }
  const shutters = tasmotaShutters(c, device, availability);
  entities.push(...shutters.entities);
  const sn = isRecord(sensors) && isRecord(sensors.sn) ? sensors.sn : undefined;
  if (sn) {
    const tempUnit = typeof sn.TempUnit === 'string' ? sn.TempUnit : 'C';
    const tele = topicFor(c, 2, 'SENSOR');
    for (const [sensor, fields] of Object.entries(sn).slice(0, 32)) {
      if (!isRecord(fields)) continue;
      for (const [name, sample] of Object.entries(fields).slice(0, 32)) {
        if (typeof sample !== 'number') continue; // TotalStartTime and the like
        const attribute = slug(`${sensor}_${name}`);
        if (!attribute || reservedName(attribute)) continue;
        const reader: StateReader = {
          topic: tele,
          decode(_payload, json) {
            const v = json !== NOT_JSON && isRecord(json) && isRecord(json[sensor]) ? json[sensor][name] : undefined;
            if (v === undefined || v === null) return { values: [] };
            const n = toNumber(v);
            return n === undefined ? { error: `${attribute}: expected a number, got ${preview(v)}` } : { values: [[attribute, n]] };
          },
        };
        entities.push({
          discoveryTopic: `${TASMOTA_PREFIX}${c.mac}/sensors#${attribute}`,
          component: 'sensor',
          attribute,
          device,
          attributes: { [attribute]: { type: 'number', writable: false, name: `${sensor} ${name}`, ...fieldSpec(name, tempUnit) } },
          readers: [reader],
          writers: {},
          availability,
          topics: [tele, lwt],
          warnings: [],
        });
      }
    }
  }
  // what could not be read is logged with the device's first entity (a device with none is not listed at all)
  const [first, ...rest] = entities;
  return first ? [{ ...first, warnings: [...first.warnings, ...shutters.warnings] }, ...rest] : [];
}
