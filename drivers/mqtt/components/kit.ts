import type { AttributeSpec, AttributeValue } from '../../types.ts';
import {
  type Build,
  fieldReader,
  matches,
  oneOf,
  preview,
  type CommandWriter,
  DiscoveryError,
  type Outgoing,
  optionalCommandTemplate,
  optionalTemplate,
  type Payload,
  type StateReader,
} from '../entity.ts';
import type { CompiledTemplate } from '../template.ts';

/** A discovery config after abbreviation expansion: what a component builder reads. */
export type Config = Readonly<Record<string, unknown>>;

/** What a component builder is given: the config, the entity's base attribute, and where to put what it builds. */
export interface ComponentContext extends Build {
  readonly c: Config;
  /** the base attribute id; sub-fields are `<base>_<field>` */
  readonly base: string;
  /** the entity's friendly name, when it has its own */
  readonly name: string | undefined;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly attributes: Record<string, AttributeSpec>;
  readonly readers: StateReader[];
  readonly writers: Record<string, CommandWriter>;
}

export type ComponentBuilder = (ctx: ComponentContext) => void;

export const str = (c: Config, key: string): string | undefined => (typeof c[key] === 'string' ? (c[key] as string) : undefined);
/** A number, or a number written as text (Zigbee2MQTT sends `"min_temp": "5"`). */
export function num(c: Config, key: string): number | undefined {
  const v = c[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}
export const bool = (c: Config, key: string): boolean | undefined => (typeof c[key] === 'boolean' ? (c[key] as boolean) : undefined);
export function payloadOf(c: Config, key: string, fallback: Payload): Payload {
  const v = c[key];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : fallback;
}
export function list(c: Config, key: string): string[] | undefined {
  const v = c[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string') || v.length > 64) throw new DiscoveryError(`${key}: expected a list of at most 64 strings`);
  return v as string[];
}
export function required(c: Config, key: string): string {
  const v = str(c, key);
  if (v === undefined) throw new DiscoveryError(`${key}: required`);
  return v;
}

/** Sub-field ids: `thermostat` + `target_temperature` -> `thermostat_target_temperature`. */
export const field = (ctx: ComponentContext, suffix: string) => `${ctx.base}_${suffix}`;

/** A published command on `topic`, with the entity's QoS and retain flag. */
export const out = (ctx: ComponentContext, topic: string, payload: string): Outgoing => ({ topic, payload, qos: ctx.qos, retain: ctx.retain });

/** The value template at `key` (optional; one Trellis cannot evaluate switches the field off). */
export function templateAt(ctx: ComponentContext, key: string): { template: CompiledTemplate | undefined; usable: boolean } {
  return optionalTemplate(ctx, key, str(ctx.c, key));
}

/**
 * A writer that publishes to `topic`: the value through the command template at `templateKey` when
 * there is one (`{{ value }}` filled in), else as `format` makes it. Returns undefined when the
 * template cannot be evaluated here (the command is switched off, with a warning).
 */
export function writer(
  ctx: ComponentContext,
  topic: string,
  templateKey: string | undefined,
  format: (v: AttributeValue) => string | { error: string },
  variables: readonly string[] = ['value'],
): CommandWriter | undefined {
  const t = templateKey ? optionalCommandTemplate(ctx, templateKey, str(ctx.c, templateKey), variables) : { fill: undefined, usable: true };
  if (!t.usable) return undefined;
  return {
    encode(value) {
      const formatted = format(value);
      if (typeof formatted !== 'string') return formatted;
      return out(ctx, topic, t.fill ? t.fill(formatted) : formatted);
    },
  };
}

/** The friendly name of a sub-field: "Living room: target temperature". */
export const labelled = (ctx: ComponentContext, words: string) => (ctx.name ? `${ctx.name}: ${words}` : words.charAt(0).toUpperCase() + words.slice(1));

/** A state topic read into `attribute` (when the config names the topic and its template is usable). */
export function read(ctx: ComponentContext, topicKey: string, templateKey: string, attribute: string, convert: Parameters<typeof fieldReader>[3]): boolean {
  const topic = str(ctx.c, topicKey);
  if (!topic) return false;
  const t = templateAt(ctx, templateKey);
  if (t.usable) ctx.readers.push(fieldReader(topic, t.template, attribute, convert));
  return true;
}

/** A command topic written from `attribute` (its command template filled in); false when there is none or it is off. */
export function command(ctx: ComponentContext, topicKey: string, templateKey: string, attribute: string, check: (v: string) => string | undefined): boolean {
  const topic = str(ctx.c, topicKey);
  if (!topic) return false;
  const w = writer(ctx, topic, templateKey, (v) => {
    const problem = check(String(v));
    return problem ? { error: `${attribute}: ${problem}` } : String(v);
  });
  if (w) ctx.writers[attribute] = w;
  return w !== undefined;
}

/** A mode-like field (HVAC mode, fan mode, preset, swing): a fixed set of options, reported and/or commanded. */
export function modeField(
  ctx: ComponentContext,
  name: string,
  words: string,
  options: readonly string[],
  keys: { state: string; stateTpl: string; cmd: string; cmdTpl: string },
) {
  const attribute = field(ctx, name);
  const reads = str(ctx.c, keys.state) !== undefined;
  const writes = str(ctx.c, keys.cmd) !== undefined;
  if (!reads && !writes) return;
  ctx.attributes[attribute] = { type: 'string', writable: writes, options, name: labelled(ctx, words) };
  read(ctx, keys.state, keys.stateTpl, attribute, oneOf(options));
  if (!command(ctx, keys.cmd, keys.cmdTpl, attribute, (v) => (options.includes(v) ? undefined : `expected one of ${options.join(', ')}`)) && writes)
    ctx.attributes[attribute] = { ...ctx.attributes[attribute], writable: false } as (typeof ctx.attributes)[string];
}

/**
 * A state that is one of `states`, each reported as its `state_<name>` payload (else `fallback(name)`):
 * turns a reported payload into its name, or an error listing the payloads expected.
 */
export function namedStates(c: Config, states: readonly string[], fallback: (state: string) => string) {
  const payloads = Object.fromEntries(states.map((s) => [s, payloadOf(c, `state_${s}`, fallback(s))]));
  return (raw: unknown) =>
    states.find((s) => matches(raw, payloads[s] as Payload)) ?? {
      error: `expected one of ${states.map((s) => JSON.stringify(payloads[s])).join(', ')}, got ${preview(raw)}`,
    };
}

/** A writer for moves (open/close/stop, lock/unlock/open): each sent as its `payload_<move>` (else the move in capitals). */
export function movesWriter(ctx: ComponentContext, topic: string, templateKey: string | undefined, moves: readonly string[]): CommandWriter | undefined {
  const payloadFor = Object.fromEntries(moves.map((m) => [m, String(payloadOf(ctx.c, `payload_${m}`, m.toUpperCase()))]));
  return writer(ctx, topic, templateKey, (v) =>
    Object.hasOwn(payloadFor, String(v)) ? (payloadFor[String(v)] as string) : { error: `${ctx.base}: expected ${moves.join(', ')}` },
  );
}
