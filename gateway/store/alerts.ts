import type { AlertInput, StoredAlert } from '../core/events.ts';
import type { Db } from './db.ts';

/** An alert as listed (the phone's list, the export): absent ids are null. */
export type AlertRow = {
  id: number;
  at: number;
  severity: StoredAlert['severity'];
  message: string;
  source: StoredAlert['source'];
  ruleId: string | null;
  deviceId: string | null;
};

const COLUMNS = 'id, at, severity, message, source, rule_id AS ruleId, device_id AS deviceId';

/** The `alerts` table: every alert the gateway raised, for the phone's list and the data export. */
export class AlertStore {
  readonly #insert;
  readonly #recent;
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare<[number, string | null, string, string, string, string | null], { id: number }>(
      'INSERT INTO alerts (at, rule_id, severity, message, source, device_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.#recent = db.prepare<[number], AlertRow>(`SELECT ${COLUMNS} FROM alerts ORDER BY id DESC LIMIT ?`);
  }

  add(a: AlertInput): StoredAlert {
    const source = a.source ?? 'rule';
    const row = this.#insert.get(a.at, a.ruleId ?? null, a.severity, a.message, source, a.deviceId ?? null) as { id: number };
    return { ...a, id: row.id, source };
  }

  /** The newest `limit` alerts, newest first. */
  recent(limit: number): AlertRow[] {
    return this.#recent.all(limit);
  }

  /** Every alert, oldest first (the data export). */
  all(): AlertRow[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM alerts ORDER BY id`).all() as AlertRow[];
  }
}
