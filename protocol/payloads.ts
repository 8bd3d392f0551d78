import * as z from 'zod';
import { usageBucketSchema } from './usage.ts';

/** The wire format's version: the `v` of every payload and the `v1` in every topic. */
export const PROTOCOL_VERSION = 1;

/**
 * Every cloud topic's JSON payload, version PROTOCOL_VERSION. docs/schemas/*.json is generated from these
 * (`npm run schemas`; a test keeps them equal), so a provider's backend can validate what it gets.
 *
 * Records from the outbox share one envelope; `key` (`<gatewayId>:<seq>`) is the idempotency key:
 * a consumer that sees a key twice has a resend of the same record.
 */
function envelope<T extends z.ZodType>(type: string, data: T) {
  return z.object({
    v: z.literal(1),
    key: z.string().describe('idempotency key <gatewayId>:<seq>'),
    seq: z.number().int().positive().describe('per-gateway sequence number, increasing'),
    gatewayId: z.string(),
    type: z.literal(type),
    at: z.number().int().describe('ms since the epoch when the record was queued'),
    data,
  });
}

export const statusPayload = z.object({
  v: z.literal(1),
  gatewayId: z.string(),
  state: z.enum(['online', 'offline']),
  at: z.number().int().optional().describe('absent in the last will, which the broker sends'),
  version: z.string().optional(),
});

export const alertData = z.object({
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string(),
  source: z.enum(['rule', 'maintenance', 'gateway']),
  ruleId: z.string().optional(),
  deviceId: z.string().optional(),
  at: z.number().int(),
});

export const usageData = usageBucketSchema.extend({ bucketSeq: z.number().int().positive().describe("the bucket's own sequence number on the gateway") });

export const maintenanceData = z.object({
  deviceId: z.string(),
  signal: z.enum(['duty_cycle', 'starts_per_hour', 'recovery_time', 'drift', 'descale_needed']),
  attribute: z.string(),
  value: z.number(),
  unit: z.string(),
  threshold: z.number().nullable(),
  exceeded: z.boolean(),
  /** drift: the device's own 7-day mean of the same quantity */
  baseline: z.number().optional(),
  at: z.number().int(),
});

const counterRecord = z.record(z.string(), z.number());

export const healthData = z.object({
  uptimeS: z.number(),
  eventLoop: z.object({ lagP99Ms: z.number(), lagMaxMs: z.number() }),
  cpu: z.object({ percent: z.number().describe('of one core, over the last interval'), load1: z.number() }),
  memory: z.object({ rssBytes: z.number(), heapUsedBytes: z.number() }),
  disk: z.object({ freeBytes: z.number().nullable(), databaseBytes: z.number() }),
  outbox: z.object({
    depth: z.number().int(),
    bytes: z.number().int(),
    maxBytes: z.number().int(),
    oldestAgeS: z.number().nullable(),
    dropped: counterRecord.describe('records dropped by the byte bound, per priority'),
  }),
  drivers: z.record(z.string(), counterRecord).describe('per-driver counters: messages, rejected, commandsSent, ...'),
  hub: counterRecord,
  devices: z.object({ known: z.number().int(), online: z.number().int() }),
  cloud: z.object({ connects: z.number().int(), published: z.number().int(), acked: z.number().int(), refused: z.number().int() }),
  metering: z.object({ errors: z.number().int() }),
});

export const commandResultData = z.object({
  requestId: z.string(),
  provider: z.string(),
  status: z.enum(['done', 'refused', 'failed', 'invalid']),
  reason: z.string().optional(),
  at: z.number().int(),
});

/** What a provider publishes on trellis/v1/<gatewayId>/cmd/<provider>/<requestId>. */
export const commandRequest = z.strictObject({
  v: z.literal(1, { error: 'expected v: 1' }),
  deviceId: z
    .string({ error: 'expected a device id' })
    .min(1)
    .describe('the device as this provider knows it: its pseudonym, or its id under an identity grant'),
  attribute: z.string({ error: 'expected an attribute name' }).min(1),
  value: z.union([z.number(), z.boolean(), z.string()], { error: 'expected a number, boolean or string' }),
});

/**
 * The devices a provider's grants cover, retained on trellis/v1/<gatewayId>/p/<provider>/manifest and
 * republished when a grant or a device changes: the fleet's inventory. Only what the owner granted:
 * the device as this provider knows it, and its real name only under an identity grant.
 */
export const manifestPayload = z.object({
  v: z.literal(1),
  gatewayId: z.string(),
  at: z.number().int(),
  /** the gateway's IANA time zone: a site's local time for bulk commands and monthly usage */
  timeZone: z.string(),
  devices: z
    .array(
      z.object({
        deviceId: z.string().describe('the pseudonym, or the real id under an identity grant'),
        kind: z.string().optional(),
        model: z.string().optional(),
        name: z.string().optional().describe('only under an identity grant'),
        capabilities: z.array(z.string()).describe('attribute names'),
        commands: z.array(z.string()).describe('attributes this provider may set remotely'),
        classes: z.array(z.string()).describe('the data classes granted for this device'),
        online: z.boolean().optional().describe('whether the device is online now (the manifest is republished when it changes)'),
      }),
    )
    .max(5000),
});

/** What a provider publishes on trellis/v1/<gatewayId>/p/<provider>/resend/<requestId>: send these hours of usage again. */
export const resendRequest = z.strictObject({
  v: z.literal(1, { error: 'expected v: 1' }),
  deviceId: z.string().min(1),
  from: z.number().int().describe('first bucket start wanted, ms'),
  to: z.number().int().describe('end (exclusive), ms; at most 31 days after from'),
});

export const resendResultData = z.object({
  requestId: z.string(),
  deviceId: z.string(),
  status: z.enum(['done', 'refused']),
  reason: z.string().optional(),
  /** buckets queued again (they arrive as ordinary usage records with their own bucketSeq) */
  resent: z.number().int().nonnegative(),
  /** hours asked for that the gateway has no bucket of, or that no grant covers */
  missing: z.number().int().nonnegative(),
  at: z.number().int(),
});

/** What a provider publishes on trellis/v1/<gatewayId>/p/<provider>/diag/<requestId>: a diagnostic snapshot of one device. */
export const diagnosticRequest = z.strictObject({
  v: z.literal(1, { error: 'expected v: 1' }),
  deviceId: z.string().min(1),
});

export const diagnosticData = z.object({
  requestId: z.string(),
  deviceId: z.string(),
  status: z.enum(['done', 'refused']),
  reason: z.string().optional(),
  online: z.boolean().optional(),
  /** current attribute values */
  attributes: z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.null()])).optional(),
  /** the last hour of numeric readings, oldest first, at most 2,000 */
  readings: z
    .array(z.object({ attribute: z.string(), at: z.number().int(), value: z.number() }))
    .max(2000)
    .optional(),
  at: z.number().int(),
});

export type AlertData = z.infer<typeof alertData>;
export type ManifestPayload = z.infer<typeof manifestPayload>;
export type ResendResultData = z.infer<typeof resendResultData>;
export type DiagnosticData = z.infer<typeof diagnosticData>;
export type MaintenanceData = z.infer<typeof maintenanceData>;
export type HealthData = z.infer<typeof healthData>;
export type CommandResultData = z.infer<typeof commandResultData>;
export type StatusPayload = z.infer<typeof statusPayload>;

/** Topic name (under trellis/v1/<gatewayId>/) -> the schema of its payload. */
export const TOPIC_SCHEMAS = {
  status: statusPayload,
  'p/<provider>/alert': envelope('alert', alertData),
  'p/<provider>/usage/<deviceRef>': envelope('usage', usageData),
  'p/<provider>/maintenance/<deviceRef>': envelope('maintenance', maintenanceData),
  'p/<provider>/health': envelope('health', healthData),
  'p/<provider>/cmd/<requestId>': commandRequest,
  'p/<provider>/cmd-result/<requestId>': envelope('cmd-result', commandResultData),
  'p/<provider>/manifest': manifestPayload,
  'p/<provider>/resend/<requestId>': resendRequest,
  'p/<provider>/resend-result/<requestId>': envelope('resend-result', resendResultData),
  'p/<provider>/diag/<requestId>': diagnosticRequest,
  'p/<provider>/diag-result/<requestId>': envelope('diag-result', diagnosticData),
} as const;
