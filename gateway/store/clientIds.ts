import type { Db } from './db.ts';
import type { WriteRunner } from './walSync.ts';

/** Client ids bound on first use that one credential keeps; older ones are let go (random ids per boot). */
export const BOUND_PER_CREDENTIAL = 16;
const TOUCH_EVERY_MS = 86_400_000;

/**
 * Which credential an MQTT client id belongs to (the `client_ids` table). A credential's reserved ids
 * (`trellis device add NAME --client-id ID`) are the only ones it may use, and nobody else may; without
 * reservations, an id is bound to the first credential that connects with it. Another credential
 * presenting a bound id is refused, whether or not the owner is connected, so a squatter can never
 * block the owner's reconnect. Anonymous devices may use only ids nobody owns, never a credential's
 * user name, and bind nothing.
 */
export class ClientIdStore {
  readonly #db: Db;
  readonly #write: WriteRunner;
  readonly #isCredential: (name: string) => boolean;
  readonly #touched = new Map<string, number>();

  constructor(db: Db, isCredential: (name: string) => boolean, write: WriteRunner = (w) => w()) {
    this.#db = db;
    this.#isCredential = isCredential;
    this.#write = write;
  }

  /** Reserves ids for a credential (replacing its earlier reservations); they stop being anyone else's. */
  reserve(owner: string, clientIds: readonly string[], now = Date.now()): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM client_ids WHERE owner = ? AND reserved = 1').run(owner);
      const put = this.#db.prepare('INSERT INTO client_ids (client_id, owner, reserved, last_used) VALUES (?, ?, 1, ?) ON CONFLICT (client_id) DO UPDATE SET owner = excluded.owner, reserved = 1');
      for (const id of clientIds) put.run(id, owner, now);
    })();
  }

  reserved(owner: string): string[] {
    return (this.#db.prepare('SELECT client_id AS id FROM client_ids WHERE owner = ? AND reserved = 1 ORDER BY client_id').all(owner) as Array<{ id: string }>).map((r) => r.id);
  }

  /** May `name` connect with `clientId`? Binds it on first use. */
  claim(clientId: string, name: string, anonymous: boolean, now = Date.now()): boolean {
    const row = this.#db.prepare('SELECT owner, reserved FROM client_ids WHERE client_id = ?').get(clientId) as { owner: string; reserved: number } | undefined;
    if (anonymous) return row === undefined && !this.#isCredential(clientId);
    if (row) {
      if (row.owner !== name) return false;
      this.#touch(clientId, now);
      return true;
    }
    if (this.#db.prepare('SELECT 1 FROM client_ids WHERE owner = ? AND reserved = 1 LIMIT 1').get(name)) return false; // it named its ids
    this.#write(() =>
      this.#db.transaction(() => {
        this.#db.prepare('INSERT INTO client_ids (client_id, owner, reserved, last_used) VALUES (?, ?, 0, ?)').run(clientId, name, now);
        this.#db
          .prepare('DELETE FROM client_ids WHERE owner = ? AND reserved = 0 AND client_id NOT IN (SELECT client_id FROM client_ids WHERE owner = ? AND reserved = 0 ORDER BY last_used DESC LIMIT ?)')
          .run(name, name, BOUND_PER_CREDENTIAL);
      })(),
    );
    this.#touched.set(clientId, now);
    return true;
  }

  /** Notes a use at most once a day, so reconnects do not write. */
  #touch(clientId: string, now: number): void {
    if (now - (this.#touched.get(clientId) ?? 0) < TOUCH_EVERY_MS) return;
    this.#touched.set(clientId, now);
    this.#write(() => this.#db.prepare('UPDATE client_ids SET last_used = ? WHERE client_id = ?').run(now, clientId));
  }
}
