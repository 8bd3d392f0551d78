import type { Queryable } from './db/fleetDb.ts';

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  /** `dispatcher:dee`; a sign-in records the name that was tried */
  readonly actor: string;
  /** the route's audit name: `ticket.assign`, `alarm.acknowledge`, `command.send`, ... */
  readonly action: string;
  /** what it acted on, e.g. a ticket id or a site */
  readonly target: string;
  /** 2xx done, 4xx refused */
  readonly status: number;
  readonly detail: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/** Keys whose values never reach the audit log. */
const SECRET = /password|secret|token/i;
const MAX_DETAIL_CHARS = 2000;
const MAX_DEPTH = 4;

/** A request body as the audit log keeps it: secrets replaced, depth and size bounded. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value)
      .slice(0, 30)
      .map(([k, v]) => [k, SECRET.test(k) ? '(hidden)' : redact(v, depth + 1)]),
  );
}

export async function recordAudit(db: Queryable, e: NewAuditEntry): Promise<void> {
  let detail = JSON.stringify(e.detail);
  if (detail.length > MAX_DETAIL_CHARS) detail = JSON.stringify({ truncated: detail.slice(0, MAX_DETAIL_CHARS) });
  await db.query('INSERT INTO audit_log (at, actor, action, target, status, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
    e.at,
    e.actor.slice(0, 200),
    e.action,
    e.target.slice(0, 200),
    e.status,
    detail,
  ]);
}

export interface AuditFilter {
  /** entries whose actor is exactly this `role:name`, or whose name part is this */
  readonly actor?: string;
  /** an action, or a family: `ticket` matches `ticket.assign` */
  readonly action?: string;
  readonly before?: number;
  readonly limit?: number;
}

/** The audit log, newest first. */
export async function listAudit(db: Queryable, f: AuditFilter = {}): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.actor) {
    params.push(f.actor);
    where.push(`(actor = $${params.length} OR split_part(actor, ':', 2) = $${params.length})`);
  }
  if (f.action) {
    params.push(f.action);
    where.push(`(action = $${params.length} OR split_part(action, '.', 1) = $${params.length})`);
  }
  if (f.before !== undefined) {
    params.push(f.before);
    where.push(`at < $${params.length}`);
  }
  params.push(Math.min(f.limit ?? 200, 1000));
  const rows = await db.query<AuditEntry>(
    `SELECT id::int AS id, at, actor, action, target, status, detail FROM audit_log
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

/** Deletes entries older than `days` (retention). */
export async function pruneAudit(db: Queryable, days: number, now: number): Promise<number> {
  return (await db.query('DELETE FROM audit_log WHERE at < $1 RETURNING 1', [now - days * 86_400_000])).length;
}
