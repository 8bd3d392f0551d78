import { existsSync, renameSync } from 'node:fs';
import { isTrellisError } from '../errors.ts';
import { openDb, type Db, type OpenOptions } from './db.ts';

/** The small tables the gateway reads at start; a damaged page in any of them would stop it. */
const STARTUP_TABLES = [
  'devices',
  'series',
  'state',
  'credentials',
  'mqtt_configs',
  'rule_timers',
  'meter_checkpoint',
  'users',
  'sessions',
  'grants',
  'audit_log',
  'secrets',
  'ble_devices',
  'replay_counters',
];

const CORRUPT = /file is not a database|database disk image is malformed|SQLITE_CORRUPT|SQLITE_NOTADB/i;

function isCorruption(err: unknown): boolean {
  const cause = isTrellisError(err) ? (err.cause as { code?: string; message?: string } | undefined) : (err as { code?: string; message?: string });
  return CORRUPT.test(`${cause?.code ?? ''} ${cause?.message ?? ''} ${(err as Error).message}`);
}

/** Opens the database and checks the tables start-up reads (not the history: that would take minutes on a big file). */
function openChecked(file: string, options: OpenOptions): Db {
  const db = openDb(file, options);
  try {
    for (const table of STARTUP_TABLES) {
      const result = db.pragma(`quick_check('${table}')`, { simple: true });
      if (result !== 'ok') throw new Error(`database disk image is malformed (${table}: ${String(result)})`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Opens the gateway's database; if the file is damaged (zeroed, truncated, garbage, a malformed page
 * in a table start-up reads), moves it and its WAL aside as `<file>.corrupt-<time>` and starts with a
 * fresh one, so the gateway serves instead of crash-looping. Never with an encryption key: there a
 * "not a database" means a wrong key, and setting the file aside would hide the owner's data.
 */
export function openOrSetAside(file: string, options: OpenOptions, now: () => number = Date.now): { db: Db; setAside: string | undefined } {
  try {
    return { db: openChecked(file, options), setAside: undefined };
  } catch (err) {
    if (options.key !== undefined || !isCorruption(err)) throw err;
    const aside = `${file}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
    renameSync(file, aside);
    for (const suffix of ['-wal', '-shm']) if (existsSync(`${file}${suffix}`)) renameSync(`${file}${suffix}`, `${aside}${suffix}`);
    return { db: openDb(file, options), setAside: aside };
  }
}
