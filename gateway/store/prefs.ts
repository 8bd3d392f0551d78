import type { Db } from './db.ts';

/** A person's home screen: what they marked as favourites, and simple mode (large controls for those only). */
export interface Prefs {
  readonly favourites: readonly string[];
  readonly scenes: readonly string[];
  readonly simple: boolean;
  /** set by the owner: this person stays in simple mode (the way out is not shown) */
  readonly simpleLocked: boolean;
}

export const DEFAULT_PREFS: Prefs = { favourites: [], scenes: [], simple: false, simpleLocked: false };

/** The `person_prefs` table (one JSON row per person; removed with the person). */
export class PrefsStore {
  readonly #get;
  readonly #set;

  constructor(db: Db) {
    this.#get = db.prepare<[number], { data: string }>('SELECT data FROM person_prefs WHERE user_id = ?');
    this.#set = db.prepare('INSERT INTO person_prefs (user_id, data) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET data = excluded.data');
  }

  get(userId: number): Prefs {
    const row = this.#get.get(userId);
    return row ? { ...DEFAULT_PREFS, ...(JSON.parse(row.data) as Partial<Prefs>) } : DEFAULT_PREFS;
  }

  set(userId: number, prefs: Prefs): void {
    this.#set.run(userId, JSON.stringify(prefs));
  }
}
