import { PersistentCounters } from './counters.ts';
import type { Db } from './db.ts';

/** Drain order: every alarm before any usage record, and so on. */
export const PRIORITIES = ['alarm', 'usage', 'maintenance', 'telemetry'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface OutboxRecord {
  readonly seq: number;
  readonly priority: number;
  readonly topic: string;
  readonly payload: string;
}

export interface PriorityStats {
  readonly priority: Priority;
  readonly depth: number;
  readonly bytes: number;
  readonly oldestAt: number | null;
  readonly dropped: number;
  readonly droppedBytes: number;
}

/** Whom a record is for, and what it is about (for purging on revoke). */
export interface RecordOwner {
  readonly provider: string;
  readonly dataClass: string;
  readonly deviceId?: string | undefined;
}

export interface OutboxStats {
  readonly depth: number;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly oldestAt: number | null;
  readonly byPriority: readonly PriorityStats[];
}

export interface OutboxOptions {
  readonly gatewayId: string;
  /** Bound on the payload bytes waiting; above it the lowest priority's oldest records are dropped. */
  readonly maxBytes: number;
  readonly now: () => number;
}

/**
 * The durable queue of records for the cloud. A record is a row until the broker acknowledges it
 * (PUBACK), so it survives restarts and outages of any length; each carries an idempotency key
 * `<gatewayId>:<seq>` so a consumer can drop the resends an outage may cause. When the queue passes
 * its byte bound it drops the lowest priority first, oldest first, and counts what it dropped.
 */
export class Outbox {
  readonly #db: Db;
  readonly #options: OutboxOptions;
  readonly #counters: PersistentCounters;
  #bytes: number;
  readonly #insert: (
    seq: number,
    priority: number,
    topic: string,
    payload: string,
    bytes: number,
    at: number,
    provider: string | null,
    dataClass: string | null,
    deviceId: string | null,
  ) => void;
  readonly #oldest: (priority: number, limit: number) => Array<{ seq: number; bytes: number }>;
  readonly #after: (priority: number, after: number, limit: number) => OutboxRecord[];
  readonly #delete: (seq: number) => number;
  /** Listeners told when a record is queued (the cloud link starts draining). */
  onEnqueue: () => void = () => {};

  constructor(db: Db, options: OutboxOptions) {
    this.#db = db;
    this.#options = options;
    this.#counters = new PersistentCounters(db);
    this.#bytes = (db.prepare('SELECT coalesce(sum(bytes), 0) AS b FROM outbox').get() as { b: number }).b;
    const insert = db.prepare(
      'INSERT INTO outbox (seq, priority, topic, payload, bytes, created_at, provider, data_class, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#insert = (...args) => insert.run(...args);
    const oldest = db.prepare<[number, number], { seq: number; bytes: number }>('SELECT seq, bytes FROM outbox WHERE priority = ? ORDER BY seq LIMIT ?');
    this.#oldest = (p, limit) => oldest.all(p, limit);
    const after = db.prepare<[number, number, number], OutboxRecord>(
      'SELECT seq, priority, topic, payload FROM outbox WHERE priority = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.#after = (p, a, limit) => after.all(p, a, limit);
    const del = db.prepare<[number], { bytes: number }>('DELETE FROM outbox WHERE seq = ? RETURNING bytes');
    this.#delete = (seq) => del.get(seq)?.bytes ?? 0;
  }

  /**
   * Queues `data` as a versioned envelope on `topic`; returns its sequence number. Safe inside an
   * enclosing transaction (the metering one): then it commits or rolls back with it.
   */
  enqueue(priority: Priority, topic: string, type: string, data: unknown, owner?: RecordOwner): number {
    const p = PRIORITIES.indexOf(priority);
    const at = this.#options.now();
    return this.#db.transaction(() => {
      const seq = this.#counters.add('outbox.lastSeq', 1);
      const payload = JSON.stringify({ v: 1, key: `${this.#options.gatewayId}:${seq}`, seq, gatewayId: this.#options.gatewayId, type, at, data });
      const bytes = Buffer.byteLength(payload);
      this.#insert(seq, p, topic, payload, bytes, at, owner?.provider ?? null, owner?.dataClass ?? null, owner?.deviceId ?? null);
      this.#bytes += bytes;
      if (this.#bytes > this.#options.maxBytes) this.#dropToBound();
      return seq;
    })();
  }

  /** Tells the drainer to look (call after a transaction that enqueued has committed). */
  notify(): void {
    this.onEnqueue();
  }

  /**
   * The next records to send: for each priority in order, those after `cursors[p]`, up to `limit`
   * in all. The drainer moves its cursors past what it sent, so nothing is sent twice on one connection.
   */
  next(cursors: readonly number[], limit: number): OutboxRecord[] {
    const out: OutboxRecord[] = [];
    for (let p = 0; p < PRIORITIES.length && out.length < limit; p++) out.push(...this.#after(p, cursors[p] ?? 0, limit - out.length));
    return out;
  }

  /** Deletes acknowledged records. */
  ack(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    this.#db.transaction(() => {
      for (const seq of seqs) this.#bytes -= this.#delete(seq);
    })();
  }

  /**
   * Deletes a provider's queued records that `keep` no longer allows (after a grant was revoked);
   * returns how many went.
   */
  purge(provider: string, keep: (dataClass: string | null, deviceId: string | null) => boolean): number {
    const rows = this.#db.prepare('SELECT seq, data_class AS dataClass, device_id AS deviceId FROM outbox WHERE provider = ?').all(provider) as Array<{
      seq: number;
      dataClass: string | null;
      deviceId: string | null;
    }>;
    const gone = rows.filter((r) => !keep(r.dataClass, r.deviceId)).map((r) => r.seq);
    this.ack(gone);
    return gone.length;
  }

  stats(): OutboxStats {
    this.#resync();
    const rows = this.#db
      .prepare('SELECT priority, count(*) AS depth, sum(bytes) AS bytes, min(created_at) AS oldestAt FROM outbox GROUP BY priority')
      .all() as Array<{ priority: number; depth: number; bytes: number; oldestAt: number }>;
    const byPriority = PRIORITIES.map((name, p) => {
      const r = rows.find((x) => x.priority === p);
      return {
        priority: name,
        depth: r?.depth ?? 0,
        bytes: r?.bytes ?? 0,
        oldestAt: r?.oldestAt ?? null,
        dropped: this.#counters.get(`outbox.dropped.${name}`),
        droppedBytes: this.#counters.get(`outbox.droppedBytes.${name}`),
      };
    });
    const oldest = byPriority.map((b) => b.oldestAt).filter((t): t is number => t !== null);
    return {
      depth: byPriority.reduce((s, b) => s + b.depth, 0),
      bytes: this.#bytes,
      maxBytes: this.#options.maxBytes,
      oldestAt: oldest.length > 0 ? Math.min(...oldest) : null,
      byPriority,
    };
  }

  #dropToBound(): void {
    for (let p = PRIORITIES.length - 1; p >= 0 && this.#bytes > this.#options.maxBytes; p--) {
      const name = PRIORITIES[p] as Priority;
      for (;;) {
        const rows = this.#oldest(p, 256);
        if (rows.length === 0) break;
        let count = 0;
        let bytes = 0;
        for (const r of rows) {
          if (this.#bytes <= this.#options.maxBytes) break;
          this.#delete(r.seq);
          this.#bytes -= r.bytes;
          bytes += r.bytes;
          count++;
        }
        this.#counters.add(`outbox.dropped.${name}`, count);
        this.#counters.add(`outbox.droppedBytes.${name}`, bytes);
        if (this.#bytes <= this.#options.maxBytes) break;
      }
    }
  }

  #resync(): void {
    this.#bytes = (this.#db.prepare('SELECT coalesce(sum(bytes), 0) AS b FROM outbox').get() as { b: number }).b;
  }
}
