import type { Db } from './db.ts';

/** Named integers that outlive the process (outbox drops, the last sequence number, meter heartbeat). */
export class PersistentCounters {
  readonly #get: (name: string) => { value: number } | undefined;
  readonly #set: (name: string, value: number) => void;

  constructor(db: Db) {
    const get = db.prepare<[string], { value: number }>('SELECT value FROM counters WHERE name = ?');
    const set = db.prepare<[string, number]>('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.#get = (name) => get.get(name);
    this.#set = (name, value) => set.run(name, value);
  }

  get(name: string): number {
    return this.#get(name)?.value ?? 0;
  }

  set(name: string, value: number): void {
    this.#set(name, value);
  }

  add(name: string, delta: number): number {
    const value = this.get(name) + delta;
    this.#set(name, value);
    return value;
  }
}
