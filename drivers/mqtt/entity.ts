import type { AttributeSpec, AttributeValue } from '../types.ts';
import { compileTemplate, MISSING, TemplateError, type CompiledTemplate } from './template.ts';

/**
 * One discovered Home Assistant entity as the MQTT driver uses it, whatever its component: the
 * attributes it adds to its device, the readers that turn a message on one of its state topics into
 * values (or button events), and the writers that turn a command on one of its attributes into a
 * message. A thermostat is one entity with several attributes; a switch has one.
 */
export interface EntityConfig {
  readonly discoveryTopic: string;
  readonly component: string;
  /** the entity's base attribute id (from the discovery topic's object id); others are `<base>_<field>` */
  readonly attribute: string;
  readonly device: DeviceInfo;
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  readonly readers: readonly StateReader[];
  readonly writers: Readonly<Record<string, CommandWriter>>;
  readonly availability: readonly Availability[];
  /** Every topic the config names; all must belong to the publishing device. */
  readonly topics: readonly string[];
  /** optional parts that were switched off (a template Trellis cannot evaluate), for the log */
  readonly warnings: readonly string[];
}

export type Payload = string | number | boolean;

export interface DeviceInfo {
  readonly id: string;
  readonly name: string;
  readonly manufacturer: string | undefined;
  readonly model: string | undefined;
  readonly swVersion: string | undefined;
  /** the config named no device (the name is the node id): a name another entity of the device gave is kept */
  readonly unnamed?: boolean | undefined;
}

export interface Availability {
  readonly topic: string;
  readonly payloadAvailable: Payload;
  readonly payloadNotAvailable: Payload;
  readonly template: CompiledTemplate | undefined;
}

/** Parsed JSON of a payload, shared by every reader of the same message; NOT_JSON when it is not. */
export const NOT_JSON: unique symbol = Symbol('not-json');

/** A JSON object (not null, not an array). */
export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
export type ParsedJson = unknown | typeof NOT_JSON;

export interface Pressed {
  readonly button: string;
  readonly action: string;
}

export type Decoded =
  | { readonly values: ReadonlyArray<readonly [string, AttributeValue]>; readonly pressed?: readonly Pressed[] | undefined }
  | { readonly error: string };

export const NOTHING: Decoded = { values: [] };

export interface StateReader {
  readonly topic: string;
  decode(payload: string, json: ParsedJson): Decoded;
}

export interface Outgoing {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export interface CommandWriter {
  encode(value: AttributeValue): Outgoing | { error: string };
}

/** Compares a rendered value with a configured payload the way HA's string rendering would. */
export function matches(v: unknown, expected: Payload): boolean {
  if (v === expected) return true;
  if (typeof v === 'boolean') return String(v) === String(expected).toLowerCase();
  return String(v) === String(expected);
}

export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** HA's "no value" states; they carry no reading and are not errors. */
export function isUnknown(v: unknown): boolean {
  return v === null || v === '' || v === 'None' || v === 'unknown' || v === 'unavailable';
}

export function preview(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** A template's value for a payload: the payload itself without one; MISSING when its path is absent; `{error}` when it needs JSON and there is none. */
export function render(t: CompiledTemplate | undefined, payload: string, json: ParsedJson, attribute: string): unknown {
  if (!t) return payload;
  if (t.usesJson && json === NOT_JSON) return { error: `${attribute}: payload is not JSON (template ${t.source})` };
  return t.render(payload, json);
}

export const isError = (v: unknown): v is { error: string } => typeof v === 'object' && v !== null && 'error' in v;

/**
 * A reader for one attribute on one topic: its template's value, turned into the attribute's value by
 * `convert` (which returns an error message for a value it cannot take). No value and HA's
 * "unknown" states are not errors.
 */
export function fieldReader(
  topic: string,
  template: CompiledTemplate | undefined,
  attribute: string,
  convert: (raw: unknown) => AttributeValue | { error: string } | undefined,
): StateReader {
  return {
    topic,
    decode(payload, json) {
      const raw = render(template, payload, json, attribute);
      if (raw === MISSING || isUnknown(raw)) return NOTHING;
      if (isError(raw)) return raw;
      const v = convert(raw);
      if (v === undefined) return NOTHING;
      if (isError(v)) return { error: `${attribute}: ${v.error}` };
      return { values: [[attribute, v]] };
    },
  };
}

export const asNumber = (raw: unknown) => toNumber(raw) ?? { error: `expected a number, got ${preview(raw)}` };

/** One of `options` (compared as text), as reported. */
export const oneOf = (options: readonly string[]) => (raw: unknown) => {
  const s = String(raw);
  return options.includes(s) ? s : { error: `expected one of ${options.join(', ')}, got ${preview(raw)}` };
};

/**
 * A command template of the subset firmware uses: literal text around the value, e.g.
 * `{"mode": "{{ value }}"}`, or Zigbee2MQTT's `{ "position": {{ position }} }` (`variables` names
 * what the value is called for that command). Anything else cannot be evaluated here.
 */
export function compileCommandTemplate(source: string, variables: readonly string[] = ['value']): (value: AttributeValue) => string {
  const slot = new RegExp(`\\{\\{-?\\s*(?:${variables.join('|')})\\s*-?\\}\\}`);
  const parts = source.split(slot);
  if (/\{\{|\{%/.test(parts.join('')))
    throw new TemplateError(`unsupported command template ${JSON.stringify(source)}: only {{ ${variables.join(' }} or {{ ')} }} can be filled in`);
  return (value) => parts.join(String(value));
}

/** Where a component builder notes an optional part it had to switch off. */
export interface Build {
  readonly warnings: string[];
}

/**
 * An optional value template: compiled, or (when Trellis cannot evaluate it, e.g. a Jinja `{% set %}`
 * mapping) undefined with a warning, so that one optional field goes and the entity stays.
 */
export function optionalTemplate(b: Build, key: string, source: string | undefined): { template: CompiledTemplate | undefined; usable: boolean } {
  if (source === undefined) return { template: undefined, usable: true };
  try {
    return { template: compileTemplate(source), usable: true };
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    b.warnings.push(`${key}: ${err.message}; this field is off`);
    return { template: undefined, usable: false };
  }
}

/** An optional command template, likewise. */
export function optionalCommandTemplate(
  b: Build,
  key: string,
  source: string | undefined,
  variables: readonly string[] = ['value'],
): { fill: ((v: AttributeValue) => string) | undefined; usable: boolean } {
  if (source === undefined) return { fill: undefined, usable: true };
  try {
    return { fill: compileCommandTemplate(source, variables), usable: true };
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    b.warnings.push(`${key}: ${err.message}; this command is off`);
    return { fill: undefined, usable: false };
  }
}

export class DiscoveryError extends Error {}
