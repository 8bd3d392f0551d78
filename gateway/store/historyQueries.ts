import type { Db } from './db.ts';
import type { UsageBucket } from '../../protocol/index.ts';

export interface HistoryPoint {
  /** start of the point's time slot (ms) */
  readonly t: number;
  readonly min: number;
  readonly mean: number;
  readonly max: number;
  readonly n: number;
}

/**
 * The readings table is append-only in arrival order with no index but its rowid (inserts stay
 * cheap), so time maps to rowid monotonically enough to binary-search: find the rowid range of
 * [from, to), then scan only that range for the one series, grouped into `points` slots by SQLite.
 */
export function history(db: Db, seriesId: number, from: number, to: number, points: number): HistoryPoint[] {
  const bounds = db.prepare('SELECT min(rowid) AS lo, max(rowid) AS hi FROM readings').get() as { lo: number | null; hi: number | null };
  if (bounds.lo === null || bounds.hi === null) return [];
  const tsAt = db.prepare<[number], { ts: number }>('SELECT ts FROM readings WHERE rowid >= ? ORDER BY rowid LIMIT 1');
  /** the first rowid whose ts is >= t */
  const firstAtOrAfter = (t: number): number => {
    let lo = bounds.lo as number;
    let hi = (bounds.hi as number) + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = tsAt.get(mid);
      if (!row || row.ts >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  // a margin of rows on both sides absorbs small out-of-order arrivals; the ts filter stays exact
  const start = Math.max(bounds.lo, firstAtOrAfter(from) - 10_000);
  const end = firstAtOrAfter(to) + 10_000;
  const width = Math.max(1, Math.ceil((to - from) / points));
  return db
    .prepare<number[], HistoryPoint>(
      `SELECT ? + CAST((ts - ?) / ? AS INTEGER) * ? AS t, min(num) AS min, avg(num) AS mean, max(num) AS max, count(*) AS n
       FROM readings WHERE rowid BETWEEN ? AND ? AND series_id = ? AND ts >= ? AND ts < ? AND num IS NOT NULL
       GROUP BY t ORDER BY t`,
    )
    .all(from, from, width, width, start, end, seriesId, from, to)
    .map((p) => ({ ...p, mean: Math.round(p.mean * 1000) / 1000 }));
}

export interface DailyUsage {
  /** local date of the buckets, YYYY-MM-DD */
  readonly day: string;
  /** energy in Wh and counters by attribute; on-time in seconds */
  readonly totals: Record<string, number>;
}

/** A device's closed usage buckets in [from, to), and their totals per local day. */
export function usage(db: Db, deviceId: string, from: number, to: number): { buckets: UsageBucket[]; daily: DailyUsage[] } {
  const buckets = (
    db.prepare('SELECT data FROM usage_buckets WHERE device_id = ? AND start >= ? AND start < ? ORDER BY start').all(deviceId, from, to) as Array<{
      data: string;
    }>
  ).map((r) => JSON.parse(r.data) as UsageBucket);
  const days = new Map<string, Record<string, number>>();
  for (const b of buckets) {
    const day = b.localStart.slice(0, 10);
    const totals = days.get(day) ?? {};
    for (const [name, m] of Object.entries(b.metrics)) {
      const v = m.role === 'energy' || m.role === 'counter' ? m.delta : m.role === 'on' ? m.seconds : m.role === 'door' ? m.openSeconds : undefined;
      if (v !== undefined) totals[name] = Math.round(((totals[name] ?? 0) + v) * 1000) / 1000;
    }
    days.set(day, totals);
  }
  return { buckets, daily: [...days].map(([day, totals]) => ({ day, totals })) };
}

/** The phone's history and usage views over the readings and usage_buckets tables (read only). */
export class HistoryQueries {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  points(seriesId: number, from: number, to: number, points: number): HistoryPoint[] {
    return history(this.#db, seriesId, from, to, points);
  }

  usage(deviceId: string, from: number, to: number): { buckets: UsageBucket[]; daily: DailyUsage[] } {
    return usage(this.#db, deviceId, from, to);
  }

  /** Every device's buckets starting in [from, to), and when each device's first bucket ever started. */
  allUsage(from: number, to: number): Array<{ deviceId: string; firstStart: number; buckets: UsageBucket[] }> {
    const byDevice = new Map<string, UsageBucket[]>();
    for (const r of this.#db
      .prepare('SELECT device_id, data FROM usage_buckets WHERE start >= ? AND start < ? ORDER BY device_id, start')
      .all(from, to) as Array<{
      device_id: string;
      data: string;
    }>) {
      const list = byDevice.get(r.device_id) ?? [];
      list.push(JSON.parse(r.data) as UsageBucket);
      byDevice.set(r.device_id, list);
    }
    const first = this.#db.prepare<[string], { s: number }>('SELECT min(start) AS s FROM usage_buckets WHERE device_id = ?');
    return [...byDevice].map(([deviceId, buckets]) => ({ deviceId, firstStart: first.get(deviceId)?.s ?? from, buckets }));
  }
}
