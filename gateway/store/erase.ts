import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db.ts';
import { clampMarks } from './lastValues.ts';

export interface EraseScope {
  /** only this device's data */
  readonly deviceId?: string | undefined;
  /** only data from before this instant (ms) */
  readonly before?: number | undefined;
}

export interface EraseResult {
  readonly readings: number;
  readonly events: number;
  readonly usageBuckets: number;
}

/**
 * Erases history and usage (all, or one device's, or before a date) so that it cannot be read back
 * from the file: `secure_delete` overwrites freed pages, the WAL is checkpointed and truncated, and the
 * file is vacuumed.
 */
export function eraseHistory(db: Db, scope: EraseScope): EraseResult {
  const before = scope.before ?? Number.MAX_SAFE_INTEGER;
  db.pragma('secure_delete = ON');
  const result = db.transaction(() => {
    const series = scope.deviceId
      ? (db.prepare('SELECT id FROM series WHERE device_id = ?').all(scope.deviceId) as Array<{ id: number }>).map((r) => r.id)
      : undefined;
    let readings = 0;
    if (series) for (const id of series) readings += db.prepare('DELETE FROM readings WHERE series_id = ? AND ts < ?').run(id, before).changes;
    else readings = db.prepare('DELETE FROM readings WHERE ts < ?').run(before).changes;
    // the last known value of each attribute is history too
    if (series) for (const id of series) db.prepare('DELETE FROM state WHERE series_id = ? AND ts < ?').run(id, before);
    else db.prepare('DELETE FROM state WHERE ts < ?').run(before);
    const events = scope.deviceId
      ? db.prepare('DELETE FROM device_events WHERE device_id = ? AND ts < ?').run(scope.deviceId, before).changes
      : db.prepare('DELETE FROM device_events WHERE ts < ?').run(before).changes;
    const usageBuckets = scope.deviceId
      ? db.prepare('DELETE FROM usage_buckets WHERE device_id = ? AND start < ?').run(scope.deviceId, before).changes
      : db.prepare('DELETE FROM usage_buckets WHERE start < ?').run(before).changes;
    // SQLite reuses the rowids of erased newest rows: marks past them would skip the new rows
    clampMarks(db);
    db.prepare(
      `UPDATE meter_checkpoint SET readings_rowid = min(readings_rowid, (SELECT coalesce(max(rowid), 0) FROM readings)),
       events_rowid = min(events_rowid, (SELECT coalesce(max(id), 0) FROM device_events))`,
    ).run();
    return { readings, events, usageBuckets };
  })();
  scrub(db);
  return result;
}

/** Rows that hold household data; a factory reset leaves all of them empty. */
export const USER_TABLES = [
  'readings',
  'device_events',
  'usage_buckets',
  'state',
  'series',
  'devices',
  'device_meta',
  'credentials',
  'mqtt_configs',
  'rule_timers',
  'alerts',
  'meter_checkpoint',
  'outbox',
  'counters',
  'command_log',
  'users',
  'sessions',
  'pairing_codes',
  'providers',
  'grants',
  'audit_log',
  'secrets',
  'ble_devices',
  'replay_counters',
  'person_prefs',
  'client_ids',
] as const;

/**
 * Factory reset of a stopped gateway's data directory: deletes the database (and its WAL), the TLS
 * certificates and keys (the gateway CA too), the copy of the last good rules, then creates an empty database with `open`, and proves it: every user table's
 * row count (all 0) and the file size.
 */
export function factoryReset(dataDir: string, open: (file: string) => Db): { counts: Record<string, number>; bytes: number; removed: string[] } {
  const removed: string[] = [];
  for (const name of [
    'trellis.db',
    'trellis.db-wal',
    'trellis.db-shm',
    'lan-cert.pem',
    'lan-key.pem',
    'tls-cert.pem',
    'tls-key.pem',
    'tls-ca-cert.pem',
    'tls-ca-key.pem',
    'rules.last-good.yaml',
  ]) {
    const file = join(dataDir, name);
    if (existsSync(file)) {
      rmSync(file);
      removed.push(name);
    }
  }
  const db = open(join(dataDir, 'trellis.db'));
  try {
    scrub(db);
    const counts = Object.fromEntries(USER_TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
    const bytes = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
    return { counts, bytes, removed };
  } finally {
    db.close();
  }
}

function scrub(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}
