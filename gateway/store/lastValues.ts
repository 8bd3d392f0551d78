import { PersistentCounters } from './counters.ts';
import type { AttributeType } from '../../drivers/types.ts';
import type { Db } from './db.ts';

/** The newest value of one series. Booleans are stored as 0/1. */
export interface LastValue {
  readonly value: number | string;
  readonly ts: number;
}

/** What the readings and events committed after the last save add to `state` and `devices.last_seen`. */
export interface LastValuesDelta {
  readonly values: Map<number, LastValue>;
  readonly seen: Map<string, number>;
}

const READINGS_MARK = 'state.readings_rowid';
const EVENTS_MARK = 'state.events_id';

/**
 * `state` (each attribute's last value) and `devices.last_seen` are derived from the history, so they
 * are saved every few minutes instead of in every commit: updating them per commit rewrote pages
 * scattered over both tables in every transaction, most of the bytes the gateway wrote per reading
 * (the SD card's wear). What was committed after the last save is recomputed from the history, whose
 * rowids past two marks (saved with the values, in the same transaction) say where to start: at
 * start-up (`catchUp`) and by readers of a running gateway's store (`unsaved`).
 */
export class LastValues {
  readonly #db: Db;
  readonly #marks: PersistentCounters;
  #pending: LastValuesDelta = { values: new Map(), seen: new Map() };
  readonly #upsertState;
  readonly #touchDevice;

  constructor(db: Db) {
    this.#db = db;
    this.#marks = new PersistentCounters(db);
    this.#upsertState = db.prepare<[number, number | string, number]>(
      `INSERT INTO state (series_id, value, ts) VALUES (?, ?, ?)
       ON CONFLICT (series_id) DO UPDATE SET value = excluded.value, ts = excluded.ts WHERE excluded.ts >= state.ts`,
    );
    this.#touchDevice = db.prepare<[number, string, number]>('UPDATE devices SET last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen < ?)');
  }

  /** After a commit that did not `write`: remembers what its batch changed. */
  note(batch: LastValuesDelta): void {
    merge(this.#pending, batch);
  }

  /**
   * Inside a transaction, after its rows are inserted: writes what was noted plus `batch` and moves the
   * marks to the newest rows, so what is written equals what lies before the marks. Call `saved()`
   * once the transaction has committed (on a rollback, nothing was written and nothing is forgotten).
   */
  write(batch?: LastValuesDelta): void {
    const all: LastValuesDelta = { values: new Map(this.#pending.values), seen: new Map(this.#pending.seen) };
    if (batch) merge(all, batch);
    apply(all, this.#upsertState, this.#touchDevice);
    this.#mark();
  }

  saved(): void {
    this.#pending = { values: new Map(), seen: new Map() };
  }

  /** Writes what was noted, in a transaction of its own. */
  save(): void {
    this.#db.transaction(() => this.write())();
    this.saved();
  }

  /** At start-up: folds the rows committed after the last save (a crash skipped it) into the tables. */
  catchUp(): number {
    const delta = unsaved(this.#db);
    this.#db.transaction(() => {
      apply(delta, this.#upsertState, this.#touchDevice);
      this.#mark();
    })();
    return delta.values.size;
  }

  #mark(): void {
    const row = newestRows(this.#db);
    this.#marks.set(READINGS_MARK, row.r);
    this.#marks.set(EVENTS_MARK, row.e);
  }
}

/** The last values and last-seen times in the rows committed after the last save (read-only). */
export function unsaved(db: Db): LastValuesDelta {
  const marks = new PersistentCounters(db);
  const fromReading = marks.get(READINGS_MARK);
  const fromEvent = marks.get(EVENTS_MARK);
  const values = new Map<number, LastValue>();
  const seen = new Map<string, number>();
  // SQLite takes the bare columns from the row holding max(ts)
  const newest = db.prepare('SELECT series_id AS id, max(ts) AS ts, num, txt FROM readings WHERE rowid > ? GROUP BY series_id').all(fromReading) as Array<{
    id: number;
    ts: number;
    num: number | null;
    txt: string | null;
  }>;
  for (const r of newest) values.set(r.id, { value: r.txt ?? (r.num as number), ts: r.ts });
  const devices = db
    .prepare(
      `SELECT s.device_id AS id, max(r.ts) AS ts FROM readings r JOIN series s ON s.id = r.series_id WHERE r.rowid > ? GROUP BY s.device_id
       UNION ALL SELECT device_id AS id, max(ts) AS ts FROM device_events WHERE id > ? GROUP BY device_id`,
    )
    .all(fromReading, fromEvent) as Array<{ id: string; ts: number }>;
  for (const d of devices) seen.set(d.id, Math.max(seen.get(d.id) ?? 0, d.ts));
  return { values, seen };
}

/** Moves both marks back to the newest rows that still exist (erasing can delete the newest rowids, which SQLite then reuses). */
export function clampMarks(db: Db): void {
  const marks = new PersistentCounters(db);
  const row = newestRows(db);
  marks.set(READINGS_MARK, Math.min(marks.get(READINGS_MARK), row.r));
  marks.set(EVENTS_MARK, Math.min(marks.get(EVENTS_MARK), row.e));
}

/** The newest reading rowid and device event id (0 when none). */
function newestRows(db: Db): { r: number; e: number } {
  return db.prepare('SELECT (SELECT coalesce(max(rowid), 0) FROM readings) AS r, (SELECT coalesce(max(id), 0) FROM device_events) AS e').get() as {
    r: number;
    e: number;
  };
}

/** Folds `from` into `into`: the newer value per series, the later time per device. */
export function merge(into: LastValuesDelta, from: LastValuesDelta): void {
  for (const [id, v] of from.values) {
    const had = into.values.get(id);
    if (!had || v.ts >= had.ts) into.values.set(id, v);
  }
  for (const [id, ts] of from.seen) if ((into.seen.get(id) ?? 0) < ts) into.seen.set(id, ts);
}

function apply(
  delta: LastValuesDelta,
  upsertState: { run(id: number, value: number | string, ts: number): unknown },
  touchDevice: { run(ts: number, id: string, ts2: number): unknown },
): void {
  for (const [id, v] of delta.values) upsertState.run(id, v.value, v.ts);
  for (const [id, ts] of delta.seen) touchDevice.run(ts, id, ts);
}

export interface StoredState {
  readonly deviceId: string;
  readonly attribute: string;
  readonly type: AttributeType;
  readonly value: number | string;
  readonly ts: number;
}

/** Every attribute's last stored value, with its device and type. */
export function storedState(db: Db): StoredState[] {
  return db
    .prepare('SELECT s.device_id AS deviceId, s.attribute, s.type, st.value, st.ts FROM state st JOIN series s ON s.id = st.series_id')
    .all() as StoredState[];
}
