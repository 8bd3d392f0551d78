import { createHash, randomBytes, randomInt } from 'node:crypto';
import { ErrorCodes, TrellisError } from '../errors.ts';
import type { PasswordHasher } from '../auth/passwordHasher.ts';
import type { Db } from './db.ts';
import type { GatewayBus } from '../core/events.ts';

export const ROLES = ['guest', 'member', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** guest < member < owner */
export const atLeast = (role: Role, needed: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(needed);

export interface User {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

export interface Session {
  readonly user: User;
  readonly sessionId: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
// Crockford base32 without I, L, O, U: easy to read off a screen and type on a phone
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const USED_EVERY_MS = 60_000;
/** How long a pairing code (the owner's first one, or one printed by `trellis pair`) stays valid. */
export const PAIRING_CODE_TTL_MS = 24 * 3_600_000;

/**
 * The people who use the LAN API: the owner (created by redeeming the first-start pairing code),
 * members and guests (created by redeeming an invite). Sign-in yields a bearer token, stored only as
 * its hash and revocable; a password (argon2id) lets a person sign in again from another phone.
 */
export class People {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #hasher: PasswordHasher;
  readonly #lastUsed = new Map<number, number>();
  /** where ended sessions are announced (`sessionsEnded`); the CLI's short-lived People has none */
  readonly #bus: Pick<GatewayBus, 'emit'> | undefined;

  constructor(db: Db, hasher: PasswordHasher, now: () => number = Date.now, bus?: Pick<GatewayBus, 'emit'>) {
    this.#bus = bus;
    this.#db = db;
    this.#hasher = hasher;
    this.#now = now;
  }

  /** Whether a session still exists (sockets re-check this: a session ended by another process, e.g. the CLI). */
  sessionActive(sessionId: number): boolean {
    return this.#db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(sessionId) !== undefined;
  }

  hasOwner(): boolean {
    return this.#db.prepare("SELECT 1 FROM users WHERE role = 'owner' LIMIT 1").get() !== undefined;
  }

  /** A one-time code (e.g. `K7QF-2M9X`); the first-start pairing code replaces any earlier one. */
  issueCode(role: Role, ttlMs: number, createdBy?: number): string {
    let raw = '';
    for (let i = 0; i < 8; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
    this.#db.transaction(() => {
      if (createdBy === undefined) this.#db.prepare('DELETE FROM pairing_codes WHERE created_by IS NULL').run();
      this.#db
        .prepare('INSERT INTO pairing_codes (code_hash, role, created_by, expires_at) VALUES (?, ?, ?, ?)')
        .run(sha256(normalise(code)), role, createdBy ?? null, this.#now() + ttlMs);
    })();
    return code;
  }

  /** Redeems a code: creates the person and their first session. Undefined if the code is unknown or expired. */
  async redeem(code: string, name: string, password: string | undefined, label: string): Promise<{ user: User; token: string } | undefined> {
    const codeHash = sha256(normalise(code));
    const row = this.#db.prepare('SELECT role, expires_at FROM pairing_codes WHERE code_hash = ?').get(codeHash) as
      | { role: Role; expires_at: number }
      | undefined;
    if (!row || row.expires_at < this.#now()) return undefined;
    const passwordHash = password ? await this.#hasher.hash(password) : null;
    return this.#db.transaction(() => {
      if (this.#db.prepare('DELETE FROM pairing_codes WHERE code_hash = ?').run(codeHash).changes === 0) return undefined; // redeemed meanwhile
      if (this.#db.prepare('SELECT 1 FROM users WHERE name = ?').get(name)) throw new TrellisError(ErrorCodes.auth, `the name "${name}" is taken`);
      const id = Number(
        this.#db.prepare('INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)').run(name, row.role, passwordHash, this.#now())
          .lastInsertRowid,
      );
      const user: User = { id, name, role: row.role };
      return { user, token: this.#newSession(id, label) };
    })();
  }

  /** An unknown name, or one without a password, costs the same argon2 verification as a known one. */
  async login(name: string, password: string, label: string): Promise<{ user: User; token: string } | undefined> {
    const row = this.#db.prepare('SELECT id, name, role, password_hash FROM users WHERE name = ?').get(name) as
      | (User & { password_hash: string | null })
      | undefined;
    const ok = await this.#hasher.verify(row?.password_hash ?? undefined, password);
    if (!row || !ok) return undefined;
    return { user: { id: row.id, name: row.name, role: row.role }, token: this.#newSession(row.id, label) };
  }

  authenticate(token: string): Session | undefined {
    const row = this.#db
      .prepare('SELECT s.id AS sessionId, u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?')
      .get(sha256(token)) as (User & { sessionId: number }) | undefined;
    if (!row) return undefined;
    const now = this.#now();
    if (now - (this.#lastUsed.get(row.sessionId) ?? 0) > USED_EVERY_MS) {
      this.#lastUsed.set(row.sessionId, now);
      this.#db.prepare('UPDATE sessions SET last_used = ? WHERE id = ?').run(now, row.sessionId);
    }
    return { user: { id: row.id, name: row.name, role: row.role }, sessionId: row.sessionId };
  }

  sessions(userId: number): Array<{ id: number; label: string; createdAt: number; lastUsed: number }> {
    return this.#db
      .prepare('SELECT id, label, created_at AS createdAt, last_used AS lastUsed FROM sessions WHERE user_id = ? ORDER BY id')
      .all(userId) as never;
  }

  /** Revokes a session of `userId` (or any session, for the owner). */
  revokeSession(sessionId: number, by: User): boolean {
    const sql = by.role === 'owner' ? 'DELETE FROM sessions WHERE id = ?' : 'DELETE FROM sessions WHERE id = ? AND user_id = ?';
    const done = this.#db.prepare(sql).run(...(by.role === 'owner' ? [sessionId] : [sessionId, by.id])).changes > 0;
    if (done) this.#notifyEnded([sessionId]);
    return done;
  }

  list(): User[] {
    return this.#db.prepare('SELECT id, name, role FROM users ORDER BY id').all() as User[];
  }

  /** Removes a person and every session of theirs; the last owner cannot be removed. */
  remove(userId: number): boolean {
    const removed = this.#db.transaction((): number[] | false => {
      const row = this.#db.prepare('SELECT role FROM users WHERE id = ?').get(userId) as { role: Role } | undefined;
      if (!row) return false;
      if (row.role === 'owner' && (this.#db.prepare("SELECT count(*) AS n FROM users WHERE role = 'owner'").get() as { n: number }).n === 1) {
        throw new TrellisError(ErrorCodes.auth, 'the last owner cannot be removed');
      }
      const ended = (this.#db.prepare('SELECT id FROM sessions WHERE user_id = ?').all(userId) as Array<{ id: number }>).map((r) => r.id);
      this.#db.prepare('DELETE FROM users WHERE id = ?').run(userId); // sessions go with it (ON DELETE CASCADE)
      return ended;
    })();
    if (removed === false) return false;
    this.#notifyEnded(removed);
    return true;
  }

  #notifyEnded(ids: readonly number[]): void {
    for (const id of ids) this.#lastUsed.delete(id);
    this.#bus?.emit('sessionsEnded', ids);
  }

  #newSession(userId: number, label: string): string {
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    this.#db
      .prepare('INSERT INTO sessions (user_id, token_hash, label, created_at, last_used) VALUES (?, ?, ?, ?, ?)')
      .run(userId, sha256(token), label.slice(0, 100), now, now);
    return token;
  }
}

const normalise = (code: string) => code.toUpperCase().replace(/[^0-9A-Z]/g, '');
