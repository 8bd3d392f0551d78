import type { AttributeSpec, AttributeValue } from '../../types.ts';
import {
  type Build,
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
