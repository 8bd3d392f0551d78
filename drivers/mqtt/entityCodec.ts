import type { AttributeSpec, AttributeValue } from '../types.ts';
import type { Availability, EntityConfig, Payload } from './discovery.ts';
import { MISSING, type CompiledTemplate } from './template.ts';

/** Parsed JSON of a payload, shared by every entity reading the same message; NOT_JSON when it is not. */
export const NOT_JSON: unique symbol = Symbol('not-json');
export type ParsedJson = unknown | typeof NOT_JSON;

export function parseJsonOnce(payload: string): ParsedJson {
  const c = payload.charCodeAt(0);
  if (c !== 123 /* { */ && c !== 91 /* [ */) return NOT_JSON;
  try {
    return JSON.parse(payload);
  } catch {
    return NOT_JSON;
  }
}

export type Decoded = { readonly values: ReadonlyArray<readonly [string, AttributeValue]> } | { readonly error: string };

const NOTHING: Decoded = { values: [] };

/** The attributes an entity adds to its device: lights with brightness add `<attr>_brightness` (0-100 %). */
export function entityAttributes(e: EntityConfig): Record<string, AttributeSpec> {
  const attrs: Record<string, AttributeSpec> = { [e.attribute]: e.spec };
  if (e.light?.brightness) attrs[`${e.attribute}_brightness`] = { type: 'number', unit: '%', writable: true, min: 0, max: 100, step: 1 };
  return attrs;
}

/** Decodes a message on an entity's state topic. */
export function decodeState(e: EntityConfig, payload: string, json: ParsedJson): Decoded {
  if (e.light?.schema === 'json') return decodeJsonLight(e, json);
  const raw = render(e.valueTemplate, payload, json, e.attribute);
  if (raw === MISSING) return NOTHING;
  if (typeof raw === 'object' && raw !== null && 'error' in raw) return raw as Decoded;
  if (isUnknown(raw)) return NOTHING;
  switch (e.spec.type) {
    case 'boolean': {
      if (matches(raw, e.stateOn)) return { values: [[e.attribute, true]] };
      if (matches(raw, e.stateOff)) return { values: [[e.attribute, false]] };
      return { error: `${e.attribute}: expected ${JSON.stringify(e.stateOn)} or ${JSON.stringify(e.stateOff)}, got ${preview(raw)}` };
    }
    case 'number': {
      const n = toNumber(raw);
      if (n === undefined) return { error: `${e.attribute}: expected a number, got ${preview(raw)}` };
      return { values: [[e.attribute, n]] };
    }
    case 'string':
      return { values: [[e.attribute, typeof raw === 'string' ? raw : JSON.stringify(raw)]] };
  }
}

/** Decodes a message on a default-schema light's brightness state topic. */
export function decodeBrightness(e: EntityConfig, payload: string, json: ParsedJson): Decoded {
  const light = e.light;
  if (!light) return NOTHING;
  const raw = render(light.brightnessTemplate, payload, json, `${e.attribute}_brightness`);
  if (raw === MISSING || isUnknown(raw)) return NOTHING;
  if (typeof raw === 'object' && raw !== null && 'error' in raw) return raw as Decoded;
  const n = toNumber(raw);
  if (n === undefined) return { error: `${e.attribute}_brightness: expected a number, got ${preview(raw)}` };
  return { values: [[`${e.attribute}_brightness`, toPercent(n, light.brightnessScale)]] };
}

/** Availability: true, false, or undefined when the payload is neither. */
export function decodeAvailability(a: Availability, payload: string, json: ParsedJson): boolean | undefined {
  const raw = a.template ? a.template.render(payload, json === NOT_JSON ? undefined : json) : payload;
  if (matches(raw, a.payloadAvailable)) return true;
  if (matches(raw, a.payloadNotAvailable)) return false;
  return undefined;
}

export interface Outgoing {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

/** Encodes a command for an entity, or returns an error message. */
export function encodeCommand(e: EntityConfig, attribute: string, value: AttributeValue): Outgoing | { error: string } {
  const out = (topic: string | undefined, payload: string): Outgoing | { error: string } =>
    topic ? { topic, payload, qos: e.qos, retain: e.retain } : { error: `${attribute}: the device announced no command topic` };
  const isBrightness = attribute === `${e.attribute}_brightness`;
  if (e.component === 'light' && e.light) {
    const level = typeof value === 'number' ? Math.round((value / 100) * e.light.brightnessScale) : undefined;
    if (e.light.schema === 'json') {
      const body: Record<string, unknown> = isBrightness ? { state: level === 0 ? 'OFF' : 'ON', brightness: level } : { state: value ? 'ON' : 'OFF' };
      return out(e.commandTopic, JSON.stringify(body));
    }
    if (isBrightness) return out(e.light.brightnessCommandTopic, String(level));
    return out(e.commandTopic, String(value ? e.payloadOn : e.payloadOff));
  }
  if (e.component === 'switch') return out(e.commandTopic, String(value ? e.payloadOn : e.payloadOff));
  if (e.component === 'number') return out(e.commandTopic, String(value));
  return { error: `${attribute}: a ${e.component} cannot be commanded` };
}

function decodeJsonLight(e: EntityConfig, json: ParsedJson): Decoded {
  if (json === NOT_JSON || json === null || typeof json !== 'object') return { error: `${e.attribute}: expected a JSON object (json schema light)` };
  const body = json as Record<string, unknown>;
  const values: Array<[string, AttributeValue]> = [];
  if (body.state !== undefined) {
    if (matches(body.state, 'ON')) values.push([e.attribute, true]);
    else if (matches(body.state, 'OFF')) values.push([e.attribute, false]);
    else return { error: `${e.attribute}: state: expected "ON" or "OFF", got ${preview(body.state)}` };
  }
  if (e.light?.brightness && body.brightness !== undefined) {
    const n = toNumber(body.brightness);
    if (n === undefined) return { error: `${e.attribute}: brightness: expected a number, got ${preview(body.brightness)}` };
    values.push([`${e.attribute}_brightness`, toPercent(n, e.light.brightnessScale)]);
  }
  return { values };
}

function render(t: CompiledTemplate | undefined, payload: string, json: ParsedJson, attribute: string): unknown {
  if (!t) return payload;
  if (t.usesJson && json === NOT_JSON) return { error: `${attribute}: payload is not JSON (template ${t.source})` };
  return t.render(payload, json);
}

/** Compares a rendered value with a configured payload the way HA's string rendering would. */
function matches(v: unknown, expected: Payload): boolean {
  if (v === expected) return true;
  if (typeof v === 'boolean') return String(v) === String(expected).toLowerCase();
  return String(v) === String(expected);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function toPercent(level: number, scale: number): number {
  return Math.round((Math.min(Math.max(level, 0), scale) / scale) * 1000) / 10;
}

/** HA's "no value" states; they carry no reading and are not errors. */
function isUnknown(v: unknown): boolean {
  return v === null || v === '' || v === 'None' || v === 'unknown' || v === 'unavailable';
}

function preview(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
