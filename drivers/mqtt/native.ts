import * as z from 'zod';
import { type AttributeSpec, type AttributeType, type AttributeValue, reservedName } from '../types.ts';

/**
 * The native Trellis convention, for firmware written for Trellis:
 * - `trellis/<deviceId>/config` (retained, optional): `{name, manufacturer, model, attributes: {NAME: spec}}`
 * - `trellis/<deviceId>/state`: a JSON object of attribute values, e.g. `{"temperature": 21.5}`
 * - `trellis/<deviceId>/event`: `{"button": "main", "action": "single"}`
 * - `trellis/<deviceId>/status`: `online` / `offline` (use it as the last will)
 * - `trellis/<deviceId>/set`: published by the gateway, a JSON object of attributes to set
 * Attributes seen in state without a config are declared read-only with the type of their first value.
 */
export const NATIVE_PREFIX = 'trellis';

/** What `slug()` produces: lower-case letters, digits, `_` and `-`, not starting or ending with `_`/`-`. */
const DEVICE_ID = /^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$/;

export type NativeTopic = { deviceId: string; channel: 'config' | 'state' | 'event' | 'status' | 'set' };

export function parseNativeTopic(topic: string): NativeTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 3 || parts[0] !== NATIVE_PREFIX) return undefined;
  const channel = parts[2];
  const deviceId = parts[1] as string;
  if (!DEVICE_ID.test(deviceId)) return undefined;
  if (channel === 'config' || channel === 'state' || channel === 'event' || channel === 'status' || channel === 'set') {
    return { deviceId, channel };
  }
  return undefined;
}

const attributeSpec = z.strictObject({
  type: z.enum(['number', 'boolean', 'string']),
  unit: z.string().optional(),
  deviceClass: z.string().optional(),
  stateClass: z.string().optional(),
  writable: z.boolean().default(false),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive().optional(),
});

const nativeConfig = z.strictObject({
  name: z.string().min(1).optional(),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  swVersion: z.string().optional(),
  attributes: z
    .record(
      z
        .string()
        .regex(/^[a-z0-9_]{1,64}$/, 'attribute names are a-z, 0-9 and _')
        .refine((k) => !reservedName(k), 'is a reserved name'),
      attributeSpec,
    )
    .default({}),
});

export type NativeConfig = z.infer<typeof nativeConfig>;

export function parseNativeConfig(json: unknown): { ok: true; config: NativeConfig } | { ok: false; error: string } {
  const r = nativeConfig.safeParse(json);
  if (r.success) return { ok: true, config: r.data };
  const issue = r.error.issues[0];
  // a record key's own complaint ("attribute names are a-z, ...") says more than "Invalid key in record"
  const message = issue?.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue?.message;
  return { ok: false, error: `${issue?.path.join('.') || 'config'}: ${message ?? 'invalid'}` };
}

export function parseNativeEvent(json: unknown): { button: string; action: string } | undefined {
  const r = z.object({ button: z.string().min(1).max(64), action: z.string().min(1).max(32) }).safeParse(json);
  return r.success ? r.data : undefined;
}

/** Infers the declaration of an attribute first seen in a state message. */
export function inferSpec(value: AttributeValue): AttributeSpec {
  return { type: typeof value as AttributeType, writable: false };
}

/** Checks a state object: every value must be a number, boolean or string. */
export function parseNativeState(json: unknown): { ok: true; values: Array<[string, AttributeValue]> } | { ok: false; error: string } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, error: 'state: expected a JSON object of attributes' };
  const values: Array<[string, AttributeValue]> = [];
  for (const [key, value] of Object.entries(json)) {
    if (!/^[a-z0-9_]{1,64}$/.test(key)) return { ok: false, error: `state.${key}: attribute names are a-z, 0-9 and _` };
    if (reservedName(key)) return { ok: false, error: `state.${key}: is a reserved name, not an attribute's` };
    if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'boolean' && typeof value !== 'string') {
      return { ok: false, error: `state.${key}: expected a number, boolean or string, got ${JSON.stringify(value)}` };
    }
    values.push([key, value as AttributeValue]);
  }
  return { ok: true, values };
}
