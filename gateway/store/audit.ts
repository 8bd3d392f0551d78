import { createHash } from 'node:crypto';
import type { Db } from './db.ts';

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly subject: string | null;
  readonly details: string;
  readonly prevHash: string;
  readonly hash: string;
}

const GENESIS = '0'.repeat(64);

function rowHash(prevHash: string, at: number, actor: string, action: string, subject: string | null, details: string): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, at, actor, action, subject, details]))
    .digest('hex');
}

/**
 * The consent ledger and audit log: append-only, each row's hash covers its content and the previous
 * row's hash, so changing, deleting or reordering any row breaks the chain from that row on.
 */
export class AuditLog {
  readonly #db: Db;
  readonly #now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  /** `actor`: who (`owner:Olive`, `provider:acme`, `cli`); `action`: what (`grant.add`, `remote.command`, ...). */
  append(actor: string, action: string, subject: string | null, details: Record<string, unknown>): void {
    const text = JSON.stringify(details);
    const at = this.#now();
    this.#db.transaction(() => {
      const last = this.#db.prepare('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { hash: string } | undefined;
      const prev = last?.hash ?? GENESIS;
      this.#db
        .prepare('INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(at, actor, action, subject, text, prev, rowHash(prev, at, actor, action, subject, text));
    })();
  }

  list(limit = 200, beforeId?: number): AuditEntry[] {
    return this.#db
      .prepare('SELECT id, at, actor, action, subject, details, prev_hash AS prevHash, hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?')
      .all(beforeId ?? Number.MAX_SAFE_INTEGER, limit) as AuditEntry[];
  }

  all(): AuditEntry[] {
    return this.#db.prepare('SELECT id, at, actor, action, subject, details, prev_hash AS prevHash, hash FROM audit_log ORDER BY id').all() as AuditEntry[];
  }

  /** Walks the chain; returns the first row that does not match, or ok with the number of rows. */
  verify(): { ok: true; rows: number } | { ok: false; id: number; reason: string } {
    let prev = GENESIS;
    let rows = 0;
    for (const r of this.#db
      .prepare('SELECT id, at, actor, action, subject, details, prev_hash AS prevHash, hash FROM audit_log ORDER BY id')
      .iterate() as IterableIterator<AuditEntry>) {
      if (r.prevHash !== prev) return { ok: false, id: r.id, reason: 'its link to the previous row is broken (a row before it was removed or changed)' };
      if (rowHash(r.prevHash, r.at, r.actor, r.action, r.subject, r.details) !== r.hash)
        return { ok: false, id: r.id, reason: 'its content does not match its hash (it was changed)' };
      prev = r.hash;
      rows++;
    }
    return { ok: true, rows };
  }
}
