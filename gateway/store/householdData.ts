import { exportArchive } from './dataExport.ts';
import type { Db } from './db.ts';
import { eraseHistory, type EraseResult, type EraseScope } from './erase.ts';

/**
 * The owner's rights over the whole database: export everything, erase history. These are the two
 * operations that read (export) or delete from (erase) every owner's table at once; each table's
 * schema and writes stay with its owner.
 */
export class HouseholdData {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  exportArchive(rulesFile: string): Uint8Array {
    return exportArchive(this.#db, rulesFile);
  }

  erase(scope: EraseScope): EraseResult {
    return eraseHistory(this.#db, scope);
  }
}
