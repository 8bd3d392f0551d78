import { AuditLog } from './audit.ts';
import { openDb, type Db } from './db.ts';

/** What "history" means for a backup: raw readings and device events (usage buckets, alerts and the audit log always go in). */
export const HISTORY_TABLES = ['readings', 'device_events'] as const;
/** The tables a restored database is checked against (row counts in the backup's manifest). */
export const COUNTED = ['devices', 'credentials', 'users', 'grants', 'audit_log', 'usage_buckets', 'readings'] as const;

export function countRows(db: Db): Record<string, number> {
  return Object.fromEntries(COUNTED.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
}

/**
 * A consistent copy of the open database at `target` while the gateway keeps writing: SQLite's online
 * backup, or `VACUUM INTO` for an encrypted one (the online backup cannot write an encrypted copy;
 * VACUUM INTO keeps the cipher and key, and holds the event loop while it runs). Without `history` the
 * raw history is then deleted from the copy and the copy compacted. Returns its row counts and schema version.
 */
export async function snapshotDatabase(
  db: Db,
  target: string,
  o: { key: string | undefined; history: boolean },
): Promise<{ counts: Record<string, number>; schemaVersion: number }> {
  if (o.key === undefined) await db.backup(target);
  else db.exec(`VACUUM INTO '${target.replaceAll("'", "''")}'`);
  const copy = openDb(target, { synchronous: 'normal', key: o.key });
  try {
    if (!o.history) {
      for (const t of HISTORY_TABLES) copy.prepare(`DELETE FROM ${t}`).run();
      copy.exec('VACUUM');
    }
    return { counts: countRows(copy), schemaVersion: copy.pragma('user_version', { simple: true }) as number };
  } finally {
    copy.close();
  }
}

/**
 * Checks a database taken out of a backup before it is put in place: SQLite's integrity check, the
 * audit log's hash chain, and the row counts the backup's manifest recorded. Returns the problem in
 * words, or the audit log's length.
 */
export function checkSnapshot(
  file: string,
  key: string | undefined,
  expected: Readonly<Record<string, number>>,
): { ok: true; auditRows: number } | { ok: false; why: string } {
  const db = openDb(file, { synchronous: 'normal', key });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') return { ok: false, why: `the database inside fails SQLite's integrity check (${String(integrity)})` };
    const audit = new AuditLog(db).verify();
    if (!audit.ok) return { ok: false, why: `the audit log inside is broken at row ${audit.id}: ${audit.reason}` };
    const counts = countRows(db);
    for (const t of COUNTED)
      if (expected[t] !== undefined && counts[t] !== expected[t]) return { ok: false, why: `${t} has ${counts[t]} rows, the manifest says ${expected[t]}` };
    return { ok: true, auditRows: audit.rows };
  } finally {
    db.close();
  }
}
