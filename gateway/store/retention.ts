import type { Db } from './db.ts';

export interface PruneStep {
  readonly deleted: number;
  /** True when no reading older than the cutoff remains. */
  readonly done: boolean;
}

/**
 * Deletes history older than a cutoff in small steps, so ingestion is never blocked for more than a
 * few ms. Readings are appended in time order, so the oldest sit at the lowest rowids: each step reads
 * the first `chunk` rowids and deletes those older than the cutoff, and stops at the first young row.
 * No index on `ts` is needed (which keeps inserts cheap).
 */
export class RetentionPruner {
  readonly #db: Db;
  readonly #chunk: number;
  #timer: NodeJS.Timeout | undefined;
  #first: NodeJS.Immediate | undefined;
  #running = false;
  #stopped = false;

  readonly #now: () => number;

  /** `now`: the gateway's clock (readings are stamped with it, so cutoffs are computed with it too). */
  constructor(db: Db, chunk = 2000, now: () => number = Date.now) {
    this.#now = now;
    this.#db = db;
    this.#chunk = chunk;
  }

  /** One bounded step: deletes at most `chunk` rows older than `cutoffMs`. */
  step(cutoffMs: number): PruneStep {
    const rows = this.#db.prepare('SELECT rowid AS id, ts FROM readings ORDER BY rowid LIMIT ?').all(this.#chunk) as Array<{ id: number; ts: number }>;
    let lastOld: number | undefined;
    for (const r of rows) {
      if (r.ts >= cutoffMs) break;
      lastOld = r.id;
    }
    if (lastOld === undefined) return { deleted: 0, done: true };
    const { changes } = this.#db.prepare('DELETE FROM readings WHERE rowid <= ?').run(lastOld);
    const done = rows.length < this.#chunk || (rows[rows.length - 1]?.ts ?? 0) >= cutoffMs;
    return { deleted: changes, done };
  }

  /**
   * One bounded step over usage buckets: they are written as hours close, so the oldest sit at the
   * lowest `seq`; deletes at most `chunk` older than `cutoffMs`. Returns true when none is left.
   */
  stepUsage(cutoffMs: number): boolean {
    const rows = this.#db.prepare('SELECT seq, start FROM usage_buckets ORDER BY seq LIMIT ?').all(this.#chunk) as Array<{ seq: number; start: number }>;
    let lastOld: number | undefined;
    for (const r of rows) {
      if (r.start >= cutoffMs) break;
      lastOld = r.seq;
    }
    if (lastOld === undefined) return true;
    this.#db.prepare('DELETE FROM usage_buckets WHERE seq <= ? AND start < ?').run(lastOld, cutoffMs);
    return rows.length < this.#chunk || (rows[rows.length - 1]?.start ?? 0) >= cutoffMs;
  }

  /** Prunes everything older than the cutoffs (usage buckets: `usageCutoffMs`), one step per event-loop turn. */
  async run(cutoffMs: number, usageCutoffMs?: number): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    let total = 0;
    try {
      while (!this.#stopped) {
        const { deleted, done } = this.step(cutoffMs);
        total += deleted;
        if (done) break;
        await new Promise((r) => setImmediate(r));
      }
      if (this.#stopped) return total;
      this.#db.prepare('DELETE FROM device_events WHERE id IN (SELECT id FROM device_events WHERE ts < ? ORDER BY id LIMIT 10000)').run(cutoffMs);
      while (usageCutoffMs !== undefined && !this.#stopped && !this.stepUsage(usageCutoffMs)) await new Promise((r) => setImmediate(r));
    } finally {
      this.#running = false;
    }
    return total;
  }

  /** Runs `run` now and then every `everyMs` with cutoffs of `retentionMs` (and `usageRetentionMs`) before now. */
  schedule(retentionMs: number, everyMs: number, onError: (err: Error) => void, usageRetentionMs?: number): void {
    this.#stopped = false;
    const tick = () => {
      this.#first = undefined;
      this.run(this.#now() - retentionMs, usageRetentionMs === undefined ? undefined : this.#now() - usageRetentionMs).catch(onError);
    };
    this.#timer = setInterval(tick, everyMs);
    this.#timer.unref();
    this.#first = setImmediate(tick);
  }

  /** Stops the schedule; a run in progress ends after its current step. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#first) clearImmediate(this.#first);
    this.#timer = undefined;
    this.#first = undefined;
  }
}
