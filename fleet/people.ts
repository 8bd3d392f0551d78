import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db/fleetDb.ts';
import { checkPassword, hashPassword } from './passwords.ts';

export const ROLES = ['admin', 'dispatcher', 'technician', 'billing'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  readonly id: number;
  readonly name: string;
  readonly role: Role;
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export class PeopleError extends Error {
  readonly code = 'TRELLIS_FLEET_E_PEOPLE';
}

/**
 * The fleet's people: admin, dispatcher, technician, billing. Passwords are argon2id hashes; a
 * sign-in returns a random bearer token of which only the SHA-256 is stored, revocable one by one
 * (sign-out) or all at once (a user removed or re-passworded).
 */
export class People {
  readonly #db: Queryable;
  readonly #now: () => number;

  constructor(db: Queryable, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async add(name: string, role: Role, password: string): Promise<User> {
    if (!NAME.test(name)) throw new PeopleError(`user name "${name.slice(0, 80)}": expected 1-64 letters, digits, _ . @ -`);
    if (!ROLES.includes(role)) throw new PeopleError(`role "${role}": expected one of ${ROLES.join(', ')}`);
    if (password.length < 10 || password.length > 512) throw new PeopleError('password: expected 10 to 512 characters');
    const hashed = await hashPassword(password);
    const rows = await this.#db.query<User>(
      'INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING id, name, role',
      [name, role, hashed, this.#now()],
    );
    if (!rows[0]) throw new PeopleError(`user "${name}" exists already`);
    return rows[0];
  }

  async list(): Promise<User[]> {
    return this.#db.query<User>('SELECT id, name, role FROM users ORDER BY name');
  }

  async count(): Promise<number> {
    return (await this.#db.query<{ n: number }>('SELECT count(*)::int AS n FROM users'))[0]?.n ?? 0;
  }

  async remove(id: number): Promise<boolean> {
    return (await this.#db.query('DELETE FROM users WHERE id = $1 RETURNING id', [id])).length > 0;
  }

  /**
   * Checks a name and password; a new token when they match. An unknown name costs one argon2
   * verification too, so timing does not tell which names exist.
   */
  async signIn(name: string, password: string): Promise<{ token: string; user: User } | undefined> {
    const [row] = await this.#db.query<User & { password_hash: string }>('SELECT id, name, role, password_hash FROM users WHERE name = $1', [name]);
    const ok = await checkPassword(row?.password_hash, password); // costs the same for an unknown name
    if (!row || !ok) return undefined;
    const token = randomBytes(32).toString('base64url');
    await this.#db.query('INSERT INTO tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)', [tokenHash(token), row.id, this.#now()]);
    return { token, user: { id: row.id, name: row.name, role: row.role } };
  }

  /** The user a token belongs to, unless it was revoked. */
  async authenticate(token: string): Promise<User | undefined> {
    if (token.length > 200) return undefined;
    const [row] = await this.#db.query<User>(
      'SELECT u.id, u.name, u.role FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL',
      [tokenHash(token)],
    );
    return row;
  }

  async revoke(token: string): Promise<void> {
    await this.#db.query('UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL', [tokenHash(token), this.#now()]);
  }
}
