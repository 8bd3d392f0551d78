import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

const PAGE_SIZE = 1024;

export interface OpenOptions {
  /** `full`: every commit is fsynced (survives power loss); `normal`: survives process crashes. */
  readonly synchronous: 'full' | 'normal';
  readonly readonly?: boolean;
  /** Encrypt the database (SQLCipher-compatible, via SQLite3 Multiple Ciphers) with this key. */
  readonly key?: string | undefined;
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
    if (options.key !== undefined) unlock(db, file, options.key);
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      // Every commit rewrites whole pages in the WAL: 1 KB pages instead of the default 4 KB cut the
      // bytes written per reading by a third (bench). Only a new, empty database takes it.
      db.pragma(`page_size = ${PAGE_SIZE}`);
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
    throw new TrellisError(ErrorCodes.store, `database schema version ${current} is newer than this Trellis (${migrations.length}); upgrade Trellis`);
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

/**
 * Sets the cipher and key before anything else touches the file. A wrong key, or a database that was
 * created unencrypted, reads as "file is not a database": say which.
 */
function unlock(db: Db, file: string, key: string): void {
  db.pragma("cipher = 'sqlcipher'");
  db.pragma(`key = '${key.replaceAll("'", "''")}'`);
  try {
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (err) {
    throw new TrellisError(
      ErrorCodes.store,
      `cannot open database ${file} with the key from store.keyFile: the key is wrong, or the database was created without encryption (encryption applies to a new data directory; export, then start with an empty one)`,
      { cause: err },
    );
  }
}

/** The encryption key from `store.keyFile`, creating a random one (mode 0600) on first use. */
export function databaseKey(keyFile: string | undefined): string | undefined {
  if (keyFile === undefined) return undefined;
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const key = readFileSync(keyFile, 'utf8').trim();
  if (key.length < 16) throw new TrellisError(ErrorCodes.config, `store.keyFile ${keyFile}: expected a key of at least 16 characters`);
  return key;
}

/** Open options from the config's `store` section. */
export function storeOptions(store: { readonly synchronous: 'full' | 'normal'; readonly keyFile?: string | undefined }): OpenOptions {
  return { synchronous: store.synchronous, key: databaseKey(store.keyFile) };
}

export function databaseFile(dataDir: string): string {
  return `${dataDir}/trellis.db`;
}
