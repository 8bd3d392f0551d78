import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

export interface OpenOptions {
  /** `full`: every commit is fsynced (survives power loss); `normal`: survives process crashes. */
  readonly synchronous: 'full' | 'normal';
  readonly readonly?: boolean;
}

/** Opens (creating if needed) the SQLite store in WAL mode and applies pending migrations. */
export function openDb(file: string, options: OpenOptions): Db {
  let db: Db;
  try {
    if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw new TrellisError(ErrorCodes.store, `cannot open database ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
    }
  } catch (err) {
    db.close();
    if (err instanceof TrellisError) throw err;
    throw new TrellisError(ErrorCodes.store, `cannot prepare database ${file}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

/** Applies every migration newer than the database's user_version, one transaction each. */
export function migrate(db: Db): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new TrellisError(
      ErrorCodes.store,
      `database schema version ${current} is newer than this Trellis (${migrations.length}); upgrade Trellis`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    const sql = migrations[v] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return migrations.length;
}

export function databaseFile(dataDir: string): string {
  return `${dataDir}/trellis.db`;
}
