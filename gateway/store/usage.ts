import type { DeviceEvent } from '../../drivers/types.ts';
import type { PersistentCounters } from './counters.ts';
import type { Db } from './db.ts';
import type { DeviceRegistry } from './registry.ts';
import { replayEvents } from './replay.ts';

export interface MeterCheckpoint {
  readonly readingsRowid: number;
  readonly eventsRowid: number;
  /** the meter's JSON snapshot */
  readonly state: string;
}

/**
 * Metering's tables: `usage_buckets` (each closed hour, written once) and `meter_checkpoint` (the
 * meter's state and the last reading and event row it folded), and the metering heartbeat counter.
 */
export class UsageStore {
  readonly #db: Db;
  readonly #registry: DeviceRegistry;
  readonly #save;
  readonly #insert;
  readonly counters: PersistentCounters;

  constructor(db: Db, registry: DeviceRegistry, counters: PersistentCounters) {
    this.#db = db;
    this.#registry = registry;
    this.counters = counters;
    this.#save = db.prepare<[string, number]>(
      `INSERT INTO meter_checkpoint (id, readings_rowid, events_rowid, state, saved_at)
       VALUES (1, (SELECT coalesce(max(rowid), 0) FROM readings), (SELECT coalesce(max(id), 0) FROM device_events), ?, ?)
       ON CONFLICT (id) DO UPDATE SET readings_rowid = excluded.readings_rowid, events_rowid = excluded.events_rowid, state = excluded.state, saved_at = excluded.saved_at`,
    );
    this.#insert = db.prepare<[string, number, number, string], { seq: number }>(
      'INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?) ON CONFLICT (device_id, start) DO NOTHING RETURNING seq',
    );
  }

  checkpoint(): MeterCheckpoint | undefined {
    const row = this.#db.prepare('SELECT readings_rowid, events_rowid, state FROM meter_checkpoint WHERE id = 1').get() as
      | { readings_rowid: number; events_rowid: number; state: string }
      | undefined;
    return row && { readingsRowid: row.readings_rowid, eventsRowid: row.events_rowid, state: row.state };
  }

  /** Saves the meter's state as of the newest stored reading and event (inside the caller's transaction). */
  saveCheckpoint(state: string, at: number): void {
    this.#save.run(state, at);
  }

  /** Stores a closed bucket; its sequence number, or undefined when that hour is stored already. */
  insertBucket(deviceId: string, start: number, end: number, data: string): number | undefined {
    return this.#insert.get(deviceId, start, end, data)?.seq;
  }

  /** A device's stored buckets starting in [from, to), with their sequence numbers (a provider's resend). */
  buckets(deviceId: string, from: number, to: number): Array<{ seq: number; data: string }> {
    return this.#db
      .prepare('SELECT seq, data FROM usage_buckets WHERE device_id = ? AND start >= ? AND start < ? ORDER BY start')
      .all(deviceId, from, to) as Array<{
      seq: number;
      data: string;
    }>;
  }

  /** The stored events after a checkpoint, in time order. */
  replay(after: MeterCheckpoint): Generator<DeviceEvent> {
    return replayEvents(this.#db, this.#registry, after.readingsRowid, after.eventsRowid);
  }

  /** The stored buckets of a device in [from, to), oldest first, as their JSON. */
  bucketData(deviceId: string, from: number, to: number): string[] {
    return this.#db
      .prepare<[string, number, number], { data: string }>('SELECT data FROM usage_buckets WHERE device_id = ? AND start >= ? AND start < ? ORDER BY start')
      .all(deviceId, from, to)
      .map((r) => r.data);
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }
}
