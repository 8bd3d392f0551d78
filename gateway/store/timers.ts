import type { TimerRequest } from '../../rules/engine.ts';
import type { Db } from './db.ts';

export interface StoredTimer {
  readonly timer: TimerRequest;
  readonly ruleHash: string;
}

/** Pending rule timers in SQLite, written when requested and deleted when fired or cancelled. */
export class TimerStore {
  readonly #db: Db;
  readonly #put;
  readonly #del;
  readonly #all;

  constructor(db: Db) {
    this.#db = db;
    this.#put = db.prepare('INSERT OR REPLACE INTO rule_timers (id, rule_id, rule_hash, kind, due_at, data) VALUES (?, ?, ?, ?, ?, ?)');
    this.#del = db.prepare('DELETE FROM rule_timers WHERE id = ?');
    this.#all = db.prepare('SELECT id, rule_id, rule_hash, kind, due_at, data FROM rule_timers ORDER BY due_at');
  }

  /** Runs `changes` (puts and deletes) in one transaction: one commit (and fsync) for a whole reload's timers. */
  batch(changes: () => void): void {
    this.#db.transaction(changes)();
  }

  put(timer: TimerRequest, ruleHash: string): void {
    this.#put.run(timer.id, timer.ruleId, ruleHash, timer.kind, timer.dueAt, JSON.stringify(timer.data));
  }

  delete(id: string): void {
    this.#del.run(id);
  }

  all(): StoredTimer[] {
    const rows = this.#all.all() as Array<{ id: string; rule_id: string; rule_hash: string; kind: TimerRequest['kind']; due_at: number; data: string }>;
    return rows.map((r) => ({
      ruleHash: r.rule_hash,
      timer: { id: r.id, ruleId: r.rule_id, kind: r.kind, dueAt: r.due_at, data: JSON.parse(r.data) as TimerRequest['data'] },
    }));
  }
}
