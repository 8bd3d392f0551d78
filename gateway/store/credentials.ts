import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Argon2Gate, PasswordHasher } from '../auth/passwordHasher.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import type { Db } from './db.ts';

/**
 * Device credentials for the embedded broker. Passwords are 128-bit random tokens generated here and
 * shown once; only their argon2id hash is stored. Because the secret is random (not a human password),
 * the hash uses a light argon2id cost (4 MiB, 1 pass) so a fleet of 1,000 devices reconnecting after a
 * restart is verified in seconds on a Pi, with no loss of brute-force resistance.
 */
export const DEVICE_HASH_OPTIONS = { memoryCost: 4096, timeCost: 1, parallelism: 1 } as const;

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface Credential {
  readonly username: string;
  /** MQTT topic filters the credential owns (it may publish and subscribe only there). */
  readonly topics: readonly string[];
  readonly createdAt: number;
}

/** The topics a device named `username` owns unless told otherwise. */
export function defaultTopics(username: string): string[] {
  return [`${username}/#`, `trellis/${username}/#`];
}

export function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new TrellisError(ErrorCodes.device, `device name "${username}": expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

function newSecret(): string {
  return randomBytes(16).toString('base64url');
}

export class CredentialStore {
  readonly #db: Db;
  readonly #hasher: PasswordHasher;
  /** username -> sha256 of the last password that verified; spares argon2 on reconnects. */
  readonly #verified = new Map<string, Buffer>();

  /** `hasher`: the gateway shares one argon2 gate between devices and people (see Argon2Gate). */
  readonly #byName;

  readonly #now: () => number;

  constructor(db: Db, hasher = new PasswordHasher(new Argon2Gate(), DEVICE_HASH_OPTIONS), now: () => number = Date.now) {
    this.#now = now;
    this.#db = db;
    this.#hasher = hasher;
    this.#byName = db.prepare('SELECT username, hash, topics, created_at AS createdAt FROM credentials WHERE username = ?'); // every CONNECT
  }

  /** Creates a credential and returns its password (the only time it exists in clear). */
  async create(username: string, topics: readonly string[] = defaultTopics(username)): Promise<string> {
    checkUsername(username);
    const password = newSecret();
    const hashed = await this.#hasher.hash(password);
    const now = this.#now();
    try {
      this.#db
        .prepare('INSERT INTO credentials (username, hash, topics, created_at, rotated_at) VALUES (?, ?, ?, ?, ?)')
        .run(username, hashed, JSON.stringify(topics), now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new TrellisError(ErrorCodes.device, `device "${username}" already has a credential (use --rotate to issue a new password)`);
      }
      throw err;
    }
    return password;
  }

  /** Replaces the password of an existing credential (or creates it) and returns the new one. */
  async rotate(username: string, topics: readonly string[] = defaultTopics(username)): Promise<string> {
    checkUsername(username);
    const password = newSecret();
    const hashed = await this.#hasher.hash(password);
    const now = this.#now();
    this.#db
      .prepare(
        `INSERT INTO credentials (username, hash, topics, created_at, rotated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (username) DO UPDATE SET hash = excluded.hash, topics = excluded.topics, rotated_at = excluded.rotated_at`,
      )
      .run(username, hashed, JSON.stringify(topics), now, now);
    this.#verified.delete(username);
    return password;
  }

  get(username: string): Credential | undefined {
    const row = this.#db.prepare('SELECT username, topics, created_at AS createdAt FROM credentials WHERE username = ?').get(username) as
      | { username: string; topics: string; createdAt: number }
      | undefined;
    return row ? { username: row.username, topics: JSON.parse(row.topics) as string[], createdAt: row.createdAt } : undefined;
  }

  list(): Credential[] {
    const rows = this.#db.prepare('SELECT username, topics, created_at AS createdAt FROM credentials ORDER BY username').all() as Array<{
      username: string;
      topics: string;
      createdAt: number;
    }>;
    return rows.map((r) => ({ username: r.username, topics: JSON.parse(r.topics) as string[], createdAt: r.createdAt }));
  }

  /**
   * The credential if this exact password verified before (a reconnect): a hash compare, no argon2.
   * Reads the store each time, so a rotated password stops matching at once.
   */
  recall(username: string, password: string): Credential | undefined {
    const row = this.#row(username);
    const cached = this.#verified.get(username);
    if (!row || !cached) return undefined;
    return timingSafeEqual(cached, digest(row.hash, password)) ? toCredential(row) : undefined;
  }

  /**
   * Checks a password with argon2id. An unknown user name costs the same as a known one (a dummy hash
   * of the same cost is checked), so names cannot be told apart by timing.
   */
  async verify(username: string, password: string): Promise<Credential | undefined> {
    const row = this.#row(username);
    const ok = await this.#hasher.verify(row?.hash, password);
    if (!row || !ok) return undefined;
    this.#verified.set(username, digest(row.hash, password));
    return toCredential(row);
  }

  #row(username: string): CredentialRow | undefined {
    return this.#byName.get(username) as CredentialRow | undefined;
  }
}

interface CredentialRow {
  username: string;
  hash: string;
  topics: string;
  createdAt: number;
}

const digest = (hash: string, password: string) => createHash('sha256').update(hash).update('\0').update(password).digest();
const toCredential = (row: CredentialRow): Credential => ({ username: row.username, topics: JSON.parse(row.topics) as string[], createdAt: row.createdAt });
