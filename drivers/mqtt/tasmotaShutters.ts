import type { AttributeSpec } from '../types.ts';
import {
  type Availability,
  type CommandWriter,
  type DeviceInfo,
  type EntityConfig,
  isRecord,
  NOT_JSON,
  preview,
  type StateReader,
  toNumber,
} from './entity.ts';
import { TASMOTA_PREFIX, type TasmotaConfig, topicFor } from './tasmota.ts';

/**
 * Tasmota shutters from its own discovery: two consecutive relays of type 3 (`rl`) drive one shutter
 * (at most 4). Shutter n is moved with `ShutterOpen<n>`, `ShutterClose<n>`, `ShutterStop<n>` and
 * `ShutterPosition<n> <0-100>` on the command prefix, and reports `{"Shutter<n>": {"Position": 40,
 * "Direction": 1, ...}}` in `stat/.../RESULT` and `tele/.../SENSOR` (Direction 1 opening, -1 closing,
 * 0 still). An inverted shutter (`sho` bit 0) counts its position the other way round; here 100 is
 * always open. A type-3 relay without a partner makes no shutter, and says so.
 */
const SHUTTER_STATES = ['open', 'opening', 'closed', 'closing', 'stopped'];
const MOVES: Record<string, string> = { open: 'ShutterOpen', close: 'ShutterClose', stop: 'ShutterStop' };

/** Relay indexes (0-based) of each shutter's first relay, or an error for an unpaired one. */
export function shutterPairs(relays: readonly number[]): { first: number[]; error?: string } {
  const first: number[] = [];
  for (let i = 0; i < relays.length; i++) {
    if (relays[i] !== 3) continue;
    if (relays[i + 1] !== 3) return { first: [], error: `rl: relay ${i + 1} is a shutter relay without a partner (relay ${i + 2}); no shutter is read` };
    first.push(i);
    i++; // its partner
  }
  return { first: first.slice(0, 4) };
}

/** The shutter entities, and what could not be read (an unpaired shutter relay), for the log. */
export function tasmotaShutters(c: TasmotaConfig, device: DeviceInfo, availability: readonly Availability[]): { entities: EntityConfig[]; warnings: string[] } {
  const pairs = shutterPairs(c.relays);
  const result = topicFor(c, 1, 'RESULT');
  const sensor = topicFor(c, 2, 'SENSOR');
  const lwt = topicFor(c, 2, 'LWT');
  const entities: EntityConfig[] = pairs.first.map((relay, k) => {
    const n = k + 1;
    const inverted = ((c.shutterOptions[k] ?? 0) & 1) === 1;
    const base = `shutter${n}`;
    const position = `${base}_position`;
    const name = c.friendlyNames[relay] ?? `Shutter ${n}`;
    const attributes: Record<string, AttributeSpec> = {
      [base]: { type: 'string', deviceClass: 'shutter', writable: true, options: SHUTTER_STATES, commands: Object.keys(MOVES), name },
      [position]: { type: 'number', unit: '%', deviceClass: 'shutter', writable: true, min: 0, max: 100, step: 1, name: `${name} position` },
    };
    const decode: StateReader['decode'] = (_payload, json) => {
      const s = json !== NOT_JSON && isRecord(json) ? json[`Shutter${n}`] : undefined;
      if (!isRecord(s)) return { values: [] };
      const raw = toNumber(s.Position);
      if (raw === undefined || raw < 0 || raw > 100) return { error: `${position}: expected 0-100, got ${preview(s.Position)}` };
      const pos = inverted ? 100 - raw : raw;
      const direction = (toNumber(s.Direction) ?? 0) * (inverted ? -1 : 1);
      const state = direction > 0 ? 'opening' : direction < 0 ? 'closing' : pos >= 100 ? 'open' : pos <= 0 ? 'closed' : 'stopped';
      return {
        values: [
          [position, pos],
          [base, state],
        ],
      };
    };
    const moves: CommandWriter = {
      encode: (v) => {
        const command = MOVES[String(v)];
        return command === undefined
          ? { error: `expected one of ${Object.keys(MOVES).join(', ')}, got ${preview(v)}` }
          : { topic: topicFor(c, 0, `${command}${n}`), payload: '', qos: 0, retain: false };
      },
    };
    const toPosition: CommandWriter = {
      encode: (v) => ({
        topic: topicFor(c, 0, `ShutterPosition${n}`),
        payload: String(Math.round(inverted ? 100 - Number(v) : Number(v))),
        qos: 0,
        retain: false,
      }),
    };
    const commands = [...Object.values(MOVES), 'ShutterPosition'].map((m) => topicFor(c, 0, `${m}${n}`));
    return {
      discoveryTopic: `${TASMOTA_PREFIX}${c.mac}/config#${base}`,
      component: 'cover',
      attribute: base,
      device,
      attributes,
      readers: [
        { topic: result, decode },
        { topic: sensor, decode },
      ],
      writers: { [base]: moves, [position]: toPosition },
      availability,
      topics: [...commands, result, sensor, lwt],
      warnings: [],
    };
  });
  return { entities, warnings: pairs.error ? [pairs.error] : [] };
}
