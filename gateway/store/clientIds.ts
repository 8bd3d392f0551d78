import type { Db } from './db.ts';
import type { WriteRunner } from './walSync.ts';

/** Client ids bound on first use that one credential keeps; older ones are let go (random ids per boot). */
export const BOUND_PER_CREDENTIAL = 16;
const TOUCH_EVERY_MS = 86_400_000;
/** New bindings and touches are written together, at most this long after the CONNECT that made them. */
const WRITE_AFTER_MS = 200;

/**
 * Which credential an MQTT client id belongs to (the `client_ids` table). A credential's reserved ids
 * (`trellis device add NAME --client-id ID`) are the only ones it may use, and nobody else may; without
 * reservations, an id is bound to the first credential that connects with it. Another credential
 * presenting a bound id is refused, whether or not the owner is connected, so a squatter can never
 * block the owner's reconnect. Anonymous devices may use only ids nobody owns, never a credential's
 * user name, and bind nothing.
 *
 * A binding counts at once (in memory) and is written within WRITE_AFTER_MS, all that came meanwhile in
 * one transaction: a fleet of 1,000 devices reconnecting is a handful of commits, not 1,000.
 */
export class ClientIdStore {
  readonly #db: Db;
  readonly #write: WriteRunner;
  readonly #isCredential: (name: string) => boolean;
  readonly #touched = new Map<string, number>();
  /** client id -> owner, bound and not yet written */
  readonly #pending = new Map<string, string>();
  readonly #pendingTouch = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  // prepared once: CONNECTs come by the thousand after a restart
  readonly #ownerOf;
  readonly #hasReserved;
  readonly #insert;
  readonly #touch;
  readonly #trim;

  readonly #now: () => number;

  constructor(db: Db, isCredential: (name: string) => boolean, write: WriteRunner = (w) => w(), now: () => number = Date.now) {
    this.#now = now;
    this.#db = db;
    this.#isCredential = isCredential;
    this.#write = write;
    this.#ownerOf = db.prepare('SELECT owner FROM client_ids WHERE client_id = ?');
    this.#hasReserved = db.prepare('SELECT 1 FROM client_ids WHERE owner = ? AND reserved = 1 LIMIT 1');
    this.#insert = db.prepare('INSERT OR IGNORE INTO client_ids (client_id, owner, reserved, last_used) VALUES (?, ?, 0, ?)');
    this.#touch = db.prepare('UPDATE client_ids SET last_used = ? WHERE client_id = ?');
    this.#trim = db.prepare(
      'DELETE FROM client_ids WHERE owner = ? AND reserved = 0 AND client_id NOT IN (SELECT client_id FROM client_ids WHERE owner = ? AND reserved = 0 ORDER BY last_used DESC LIMIT ?)',
    );
  }

  /** Reserves ids for a credential (replacing its earlier reservations); they stop being anyone else's. */
  reserve(owner: string, clientIds: readonly string[], now = this.#now()): void {
    this.flush();
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM client_ids WHERE owner = ? AND reserved = 1').run(owner);
      const put = this.#db.prepare(
        'INSERT INTO client_ids (client_id, owner, reserved, last_used) VALUES (?, ?, 1, ?) ON CONFLICT (client_id) DO UPDATE SET owner = excluded.owner, reserved = 1',
      );
      for (const id of clientIds) put.run(id, owner, now);
    })();
  }

  reserved(owner: string): string[] {
    return (
      this.#db.prepare('SELECT client_id AS id FROM client_ids WHERE owner = ? AND reserved = 1 ORDER BY client_id').all(owner) as Array<{ id: string }>
    ).map((r) => r.id);
  }

  /** May `name` connect with `clientId`? Binds it on first use. */
  claim(clientId: string, name: string, anonymous: boolean, now = this.#now()): boolean {
    const owner = this.#pending.get(clientId) ?? (this.#ownerOf.get(clientId) as { owner: string } | undefined)?.owner;
    if (anonymous) return owner === undefined && !this.#isCredential(clientId);
    if (owner !== undefined) {
      if (owner !== name) return false;
      if (now - (this.#touched.get(clientId) ?? 0) >= TOUCH_EVERY_MS) this.#later(() => this.#pendingTouch.set(clientId, now));
      this.#touched.set(clientId, now);
      return true;
    }
    if (this.#hasReserved.get(name)) return false; // it named its ids
    this.#later(() => this.#pending.set(clientId, name));
    this.#touched.set(clientId, now);
    return true;
  }

  /** Writes what is pending now (the gateway calls it when it stops). */
  flush(now = this.#now()): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0 && this.#pendingTouch.size === 0) return;
    const bound = [...this.#pending];
    const touched = [...this.#pendingTouch];
    this.#pending.clear();
    this.#pendingTouch.clear();
    this.#write(() =>
      this.#db.transaction(() => {
        for (const [id, owner] of bound) this.#insert.run(id, owner, now);
        for (const [id, at] of touched) this.#touch.run(at, id);
        for (const owner of new Set(bound.map(([, o]) => o))) this.#trim.run(owner, owner, BOUND_PER_CREDENTIAL);
      })(),
    );
  }

  #later(note: () => void): void {
    note();
    this.#timer ??= setTimeout(() => this.flush(), WRITE_AFTER_MS);
    this.#timer.unref();
  }
}
