import type { Metric, UsageBucket } from '../protocol/index.ts';

export type UsageGap = UsageBucket['gaps'][number];

/**
 * What a month of usage sums from one bucket, kept in `usage_buckets`' summary columns when the
 * bucket is stored, so that a month is summed by the database (a customer's 50 sites, or the whole
 * fleet's 15 M buckets) instead of every bucket's JSON being read and walked here.
 */
export interface BucketSummary {
  readonly energyWh: number;
  readonly onSeconds: number;
  readonly starts: number;
  readonly doorSeconds: number;
  readonly openings: number;
  /** the seconds of the hour the device was not offline */
  readonly coveredSeconds: number;
  /** counter metrics by name (cups, cycles); null when the bucket has none */
  readonly counters: Record<string, number> | null;
  /** the spans the gateway marked as without data; null when none */
  readonly gaps: UsageGap[] | null;
}

export function bucketSummary(data: UsageBucket): BucketSummary {
  let energyWh = 0;
  let onSeconds = 0;
  let starts = 0;
  let doorSeconds = 0;
  let openings = 0;
  // a Map, so a counter named like an Object.prototype key ("__proto__") is a counter like any other
  const counters = new Map<string, number>();
  for (const [name, m] of Object.entries(data.metrics) as Array<[string, Metric]>) {
    if (m.role === 'energy') energyWh += m.delta;
    else if (m.role === 'counter') counters.set(name, (counters.get(name) ?? 0) + m.delta);
    else if (m.role === 'on') {
      onSeconds += m.seconds;
      starts += m.starts;
    } else if (m.role === 'door') {
      doorSeconds += m.openSeconds;
      openings += m.openings;
    }
  }
  return {
    energyWh,
    onSeconds,
    starts,
    doorSeconds,
    openings,
    coveredSeconds: Math.max(0, 3600 - data.offlineSeconds),
    counters: counters.size > 0 ? Object.fromEntries(counters) : null,
    gaps: data.gaps.length > 0 ? data.gaps : null,
  };
}

/** The summary's columns in `usage_buckets`, in the order `summaryValues` gives them. */
export const SUMMARY_COLUMNS = 'energy_wh, on_seconds, starts, door_seconds, openings, covered_seconds, counters, gaps';

/** A summary as the values of `SUMMARY_COLUMNS`: six numbers (float8), then counters and gaps as JSON text (jsonb), null when none. */
export const summaryValues = (s: BucketSummary): [number, number, number, number, number, number, string | null, string | null] => [
  s.energyWh,
  s.onSeconds,
  s.starts,
  s.doorSeconds,
  s.openings,
  s.coveredSeconds,
  s.counters && JSON.stringify(s.counters),
  s.gaps && JSON.stringify(s.gaps),
];

/** A summary as one JSON object per row for `jsonb_to_recordset`, its keys those of `SUMMARY_RECORD`. */
export const summaryRecord = (s: BucketSummary) => ({
  wh: s.energyWh,
  os: s.onSeconds,
  ns: s.starts,
  ds: s.doorSeconds,
  no: s.openings,
  cs: s.coveredSeconds,
  c: s.counters,
  gp: s.gaps,
});

/** `summaryRecord`'s keys with their types, in the order of `SUMMARY_COLUMNS`: for a `jsonb_to_recordset(...) AS u(...)` column list. */
export const SUMMARY_RECORD = {
  names: 'wh, os, ns, ds, no, cs, c, gp',
  types: 'wh float8, os float8, ns float8, ds float8, no float8, cs float8, c jsonb, gp jsonb',
};

/** The summaries of `rows` as one array per column of `SUMMARY_COLUMNS` (for `unnest`). */
export function summaryArrays(rows: ReadonlyArray<ReturnType<typeof summaryValues>>): unknown[][] {
  return Array.from({ length: 8 }, (_, i) => rows.map((v) => v[i]));
}

/**
 * The same summary computed by the database from a stored bucket's JSON (`b.data`), for buckets
 * stored before the summary columns existed (migration 9) or by a worker that does not write them.
 */
export const SUMMARY_FROM_JSON = `
  UPDATE usage_buckets b SET (${SUMMARY_COLUMNS}) = (
    SELECT coalesce(sum((m->>'delta')::float8) FILTER (WHERE m->>'role' = 'energy'), 0),
           coalesce(sum((m->>'seconds')::float8) FILTER (WHERE m->>'role' = 'on'), 0),
           coalesce(sum((m->>'starts')::float8) FILTER (WHERE m->>'role' = 'on'), 0),
           coalesce(sum((m->>'openSeconds')::float8) FILTER (WHERE m->>'role' = 'door'), 0),
           coalesce(sum((m->>'openings')::float8) FILTER (WHERE m->>'role' = 'door'), 0),
           greatest(0, 3600 - (b.data->>'offlineSeconds')::float8),
           jsonb_object_agg(k, (m->>'delta')::float8) FILTER (WHERE m->>'role' = 'counter'),
           CASE WHEN jsonb_array_length(b.data->'gaps') > 0 THEN b.data->'gaps' END
    FROM jsonb_each(b.data->'metrics') AS e(k, m))
  WHERE b.covered_seconds IS NULL`;
