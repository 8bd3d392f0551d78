import type { BleDeviceEntry } from '../../drivers/ble/driver.ts';
import type { ReplayCounters } from '../../drivers/types.ts';
import type { Db } from './db.ts';
import type { WriteRunner } from './walSync.ts';

/** The `ble_devices` table: Bluetooth devices the owner adopted from a scan (those in the config file are not here). */
export class BleDeviceStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  list(): BleDeviceEntry[] {
    const rows = this.#db.prepare('SELECT address, id, name, profile, bind_key FROM ble_devices ORDER BY adopted_at').all() as Array<{
      address: string;
      id: string;
      name: string;
      profile: string;
      bind_key: string | null;
    }>;
    return rows.map((r) => ({ address: r.address, id: r.id, name: r.name, profile: r.profile, bindKey: r.bind_key ?? undefined }));
  }

  add(d: BleDeviceEntry, at: number): void {
    this.#db
      .prepare('INSERT INTO ble_devices (address, id, name, profile, bind_key, adopted_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.address, d.id, d.name ?? d.id, d.profile, d.bindKey ?? null, at);
  }

  remove(address: string): boolean {
    return this.#db.prepare('DELETE FROM ble_devices WHERE address = ?').run(address).changes > 0;
  }
}

/** The `replay_counters` table (the BLE driver's `ReplayCounters`): written off the loop, one row per sensor and key. */
export function sqliteReplayCounters(db: Db, write: WriteRunner = (w) => w()): ReplayCounters {
  const select = db.prepare<[string], { counter: number }>('SELECT counter FROM replay_counters WHERE sensor = ?');
  const upsert = db.prepare(
    'INSERT INTO replay_counters (sensor, counter) VALUES (?, ?) ON CONFLICT (sensor) DO UPDATE SET counter = max(counter, excluded.counter)',
  );
  return {
    last: (sensor) => select.get(sensor)?.counter,
    accepted(sensor, counter) {
      write(() => upsert.run(sensor, counter));
    },
  };
}
