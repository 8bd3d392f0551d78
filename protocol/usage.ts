import * as z from 'zod';

/**
 * A closed hourly usage bucket of one device. Immutable once written; `seq` orders buckets and, with
 * the gateway id, makes each one's key. The zod schemas here are the source of the JSON Schema that
 * docs/schemas publishes for providers' backends.
 */
const counterMetric = z.object({
  /** Increase over the hour, in the device's unit (energy: Wh). */
  delta: z.number(),
  /** Times the counter fell and was treated as restarted from 0. */
  resets: z.number().int().nonnegative(),
  /** Times it wrapped past its modulus. */
  rollovers: z.number().int().nonnegative(),
  /** Counter readings in the hour. */
  samples: z.number().int().nonnegative(),
});

export const metricSchema = z.discriminatedUnion('role', [
  counterMetric.extend({ role: z.literal('energy'), unit: z.literal('Wh') }),
  counterMetric.extend({ role: z.literal('counter'), unit: z.string().optional() }),
  z.object({
    role: z.literal('on'),
    /** Seconds the device reported itself on (offline time counts as neither). */
    seconds: z.number().nonnegative(),
    /** off -> on transitions */
    starts: z.number().int().nonnegative(),
    samples: z.number().int().nonnegative(),
  }),
  z.object({
    role: z.literal('door'),
    openSeconds: z.number().nonnegative(),
    openings: z.number().int().nonnegative(),
    samples: z.number().int().nonnegative(),
  }),
  z.object({
    role: z.literal('temperature'),
    unit: z.string().optional(),
    /** null when there was no sample in the hour */
    min: z.number().nullable(),
    max: z.number().nullable(),
    /** arithmetic mean of the samples */
    mean: z.number().nullable(),
    samples: z.number().int().nonnegative(),
  }),
]);

export const gapSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  /** `offline`: the device said so or went silent; `gateway`: the gateway itself was not running. */
  reason: z.enum(['offline', 'gateway']),
});

export const usageBucketSchema = z.object({
  deviceId: z.string(),
  /** Bucket start and end, ms since the epoch (end exclusive; always one hour apart). */
  start: z.number().int(),
  end: z.number().int(),
  /** Local wall time of the start with its UTC offset, e.g. 2026-03-29T03:00+02:00. */
  localStart: z.string(),
  metrics: z.record(z.string(), metricSchema),
  gaps: z.array(gapSchema),
  offlineSeconds: z.number().nonnegative(),
});

export type Metric = z.infer<typeof metricSchema>;
export type Gap = z.infer<typeof gapSchema>;
export type UsageBucket = z.infer<typeof usageBucketSchema>;
