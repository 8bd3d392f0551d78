import type { BleDeviceEntry } from '../../drivers/ble/driver.ts';
import type { Db } from './db.ts';

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
