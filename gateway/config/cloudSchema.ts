import * as z from 'zod';

/** Config for metering, maintenance signals, local safety limits and the cloud link (part of trellis.yaml). */

function intRange(min: number, max: number, fallback: number) {
  const message = `expected a number from ${min} to ${max}`;
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }).default(fallback);
}

function numberRange(min: number, max: number, fallback: number) {
  const message = `expected a number from ${min} to ${max}`;
  return z.number({ error: message }).min(min, { error: message }).max(max, { error: message }).default(fallback);
}

/** `device.attribute` */
const attributeRef = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}\.[^.\s]+$/, { error: 'expected device.attribute' });
const filePath = z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' });

export const meteringSchema = z.strictObject({
  /** Hourly usage buckets per device (stored locally; synced when `cloud` is set). */
  enabled: z.boolean({ error: 'expected true or false' }).default(true),
  /** Usage buckets older than this are pruned (with the history, hourly): ~24 rows per device and day. */
  retentionDays: intRange(1, 3650, 730),
  /** Override the inferred role of an attribute: energy, counter, on, door, temperature or none. */
  attributes: z
    .record(
      attributeRef,
      z.strictObject({
        role: z.enum(['energy', 'counter', 'on', 'door', 'temperature', 'none'], { error: 'expected energy, counter, on, door, temperature or none' }),
        /** the counter's modulus: it wraps to 0 here */
        rolloverAt: z.number().positive().optional(),
      }),
    )
    .default({}),
});

export const maintenanceSchema = z.strictObject({
  dutyCycleMax: numberRange(0.05, 1, 0.85),
  startsPerHourMax: numberRange(1, 120, 12),
  recoveryMinutesMax: numberRange(1, 600, 30),
  recoveryMarginC: numberRange(0, 10, 0.5),
  temperatureDriftMaxC: numberRange(0.1, 50, 2),
  dutyCycleDriftMax: numberRange(0.01, 1, 0.25),
});

export const safetySchema = z.strictObject({
  /** `device.attribute: {min, max}`: no remote party may set a value outside these. */
  limits: z.record(attributeRef, z.strictObject({ min: z.number().optional(), max: z.number().optional() })).default({}),
});

export const cloudSchema = z
  .strictObject({
    /** mqtts://host:8883 (or mqtt:// on a trusted network). Absent: no cloud sync. */
    url: z
      .string()
      .regex(/^mqtts?:\/\/[^/]+$/, { error: 'expected mqtts://host:port or mqtt://host:port' })
      .optional(),
    /** default: the gatewayId */
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().min(1).optional(),
    /** a file holding the password (keeps it out of the config file); relative to the config file */
    passwordFile: filePath.optional(),
    /** PEM CA bundle that signed the broker's certificate (default: the system's CAs) */
    ca: filePath.optional(),
    /** PEM client certificate and key, for brokers that authenticate by certificate */
    cert: filePath.optional(),
    key: filePath.optional(),
    protocol: z.union([z.literal('auto'), z.literal(5), z.literal(4)], { error: 'expected auto, 5 or 4' }).default('auto'),
    keepaliveS: intRange(5, 3600, 60),
    healthIntervalS: intRange(5, 86_400, 60),
    /** records in flight (published, not yet acknowledged) */
    window: intRange(1, 1000, 100),
    backoffMinMs: intRange(100, 600_000, 1000),
    backoffMaxMs: intRange(1000, 3_600_000, 60_000),
    /** bound on queued payload bytes; above it the lowest priority's oldest records are dropped */
    outboxMaxBytes: intRange(65_536, 4 * 1024 * 1024 * 1024, 256 * 1024 * 1024),
  })
  .refine((c) => (c.cert === undefined) === (c.key === undefined), { error: 'cert and key go together', path: ['cert'] });

export type CloudConfig = z.infer<typeof cloudSchema>;
export type MaintenanceConfig = z.infer<typeof maintenanceSchema>;
