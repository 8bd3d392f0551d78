import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { parseClock, parseDuration } from './duration.ts';
import { WEEKDAYS } from './localTime.ts';

/**
 * The rule language (rule files in YAML, or JSON through the API). Every error names its path; the
 * loader turns paths into file:line:column.
 */
const duration = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration like 30s, 2m, 1h30m' });
const clock = z.string().refine((s) => parseClock(s) !== undefined, { message: 'expected a time of day HH:MM' });
const weekdays = z.array(z.enum(WEEKDAYS, { error: `expected one of ${WEEKDAYS.join(', ')}` })).min(1);
const value = z.union([z.number(), z.boolean(), z.string()]);
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { message: 'expected lower-case letters, digits, _ and - (1-64)' });

const stateTrigger = z.strictObject({
  device: z.string().min(1),
  attribute: z.string().min(1),
  /** becomes this value */
  to: value.optional(),
  /** ... coming from this value */
  from: value.optional(),
  /** crosses above / below (both: enters the range) */
  above: z.number().optional(),
  below: z.number().optional(),
  /** and stays so this long */
  for: duration.optional(),
});

const eventTrigger = z.strictObject({
  device: z.string().min(1),
  event: z.enum(['offline', 'online', 'fault_raised', 'fault_cleared', 'button']),
  /** fault code, or button name */
  code: z.string().optional(),
  button: z.string().optional(),
  action: z.string().optional(),
  for: duration.optional(),
});

const timeTrigger = z.strictObject({ at: clock, weekdays: weekdays.optional() });
const cronTrigger = z.strictObject({ cron: z.string().min(9) });
const startTrigger = z.strictObject({ start: z.literal(true) });

export const triggerSchema = z.union([stateTrigger, eventTrigger, timeTrigger, cronTrigger, startTrigger], {
  error: 'expected a trigger: {device, attribute, to/above/below/for}, {device, event}, {at}, {cron} or {start: true}',
});

const attributeCondition = z.strictObject({
  device: z.string().min(1),
  attribute: z.string().min(1),
  equals: value.optional(),
  not_equals: value.optional(),
  above: z.number().optional(),
  below: z.number().optional(),
});

export type ConditionInput =
  | z.infer<typeof attributeCondition>
  | { time: { after: string; before: string } }
  | { weekdays: Array<(typeof WEEKDAYS)[number]> }
  | { tariff: string }
  | { online: string }
  | { and: ConditionInput[] }
  | { or: ConditionInput[] }
  | { not: ConditionInput };

export const conditionSchema: z.ZodType<ConditionInput> = z.lazy(() =>
  z.union(
    [
      attributeCondition,
      z.strictObject({ time: z.strictObject({ after: clock, before: clock }) }),
      z.strictObject({ weekdays }),
      z.strictObject({ tariff: z.string().min(1) }),
      z.strictObject({ online: z.string().min(1) }),
      z.strictObject({ and: z.array(conditionSchema).min(1) }),
      z.strictObject({ or: z.array(conditionSchema).min(1) }),
      z.strictObject({ not: conditionSchema }),
    ],
    { error: 'expected a condition: {device, attribute, equals/above/below}, {time}, {weekdays}, {tariff}, {online}, {and}, {or} or {not}' },
  ),
);

const target = z.strictObject({ device: z.string().min(1), attribute: z.string().min(1) });

export const actionSchema = z.union(
  [
    z.strictObject({ set: z.strictObject({ device: z.string().min(1), attribute: z.string().min(1), value }) }),
    z.strictObject({ toggle: target }),
    z.strictObject({ scene: z.string().min(1) }),
    z.strictObject({ delay: duration }),
    z.strictObject({
      notify: z.strictObject({
        message: z.string().min(1),
        severity: z.enum(['info', 'warning', 'critical']).default('warning'),
        /** the device the alert is about (its service provider's alarm and ticket name it) */
        device: z.string().min(1).optional(),
      }),
    }),
    z.strictObject({ cancel: z.strictObject({ rule: id }) }),
  ],
  { error: 'expected an action: {set}, {toggle}, {scene}, {delay}, {notify} or {cancel}' },
);

export const ruleSchema = z.strictObject({
  id,
  name: z.string().optional(),
  enabled: z.boolean().default(true),
  /** Only the owner may disable or edit it (enforced by the parties issue; the flag and check live here). */
  protected: z.boolean().default(false),
  /** May this rule unlock a lock or open a garage door or gate? Only when it says so; the checker lists such rules. */
  allowUnlock: z.boolean().default(false),
  mode: z.enum(['single', 'restart', 'queued', 'parallel']).default('single'),
  /** queued: how many may wait; parallel: how many may run at once */
  max: z.number().int().min(1).max(1000).default(10),
  triggers: z.array(triggerSchema).min(1),
  conditions: z.array(conditionSchema).default([]),
  actions: z.array(actionSchema).min(1),
});

const sceneSchema = z.array(z.strictObject({ device: z.string().min(1), attribute: z.string().min(1), value })).min(1);

export const ruleFileSchema = z.strictObject({
  scenes: z.record(id, sceneSchema).default({}),
  rules: z.array(ruleSchema).default([]),
});

let fingerprint: string | undefined;
/**
 * What identifies this schema's code: the sha256 of the file it runs from (the source, dist/'s
 * module, or the bundle's chunk that holds it). Contents checked under the same fingerprint need no
 * second check; any change to the code, the schema's or not, makes it check once more.
 */
export function schemaFingerprint(): string {
  fingerprint ??= createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex');
  return fingerprint;
}

export type RuleFile = z.infer<typeof ruleFileSchema>;
export type RuleDef = z.infer<typeof ruleSchema>;
export type TriggerDef = z.infer<typeof triggerSchema>;
export type ActionDef = z.infer<typeof actionSchema>;
export type ConditionDef = ConditionInput;

/** Tariff windows come from the gateway config: name -> {from, to, weekdays}. */
export const tariffSchema = z.strictObject({ from: clock, to: clock, weekdays: weekdays.optional() });
export type TariffDef = z.infer<typeof tariffSchema>;
