import type { Db } from './db.ts';

/** The `device_meta` table: what the owner says about a device (its room, its tags). */
export class DeviceMetaStore {
  readonly #get;
  readonly #setTags;
  readonly #setRoom;

  constructor(db: Db) {
    this.#get = db.prepare<[string], { room: string | null; tags: string | null }>('SELECT room, tags FROM device_meta WHERE device_id = ?');
    this.#setTags = db.prepare('INSERT INTO device_meta (device_id, tags) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET tags = excluded.tags');
    this.#setRoom = db.prepare('INSERT INTO device_meta (device_id, room) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET room = excluded.room');
  }

  room(deviceId: string): string | null {
    return this.#get.get(deviceId)?.room ?? null;
  }

  tags(deviceId: string): string[] {
    return JSON.parse(this.#get.get(deviceId)?.tags ?? '[]') as string[];
  }

  setTags(deviceId: string, tags: readonly string[]): void {
    this.#setTags.run(deviceId, JSON.stringify(tags));
  }

  setRoom(deviceId: string, room: string | null): void {
    this.#setRoom.run(deviceId, room);
  }
}
