import type { RetainedConfigStore } from '../../drivers/types.ts';
import type { Db } from './db.ts';
import type { WriteRunner } from './walSync.ts';

/** SQLite-backed store of retained configuration messages; writes only when a payload changed. */
export function sqliteRetainedConfigs(db: Db, write: WriteRunner = (w) => w(), now: () => number = Date.now): RetainedConfigStore {
  const select = db.prepare('SELECT owner, payload FROM mqtt_configs WHERE topic = ?');
  const upsert = db.prepare(
    `INSERT INTO mqtt_configs (topic, owner, payload, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (topic) DO UPDATE SET owner = excluded.owner, payload = excluded.payload, updated_at = excluded.updated_at`,
  );
  const del = db.prepare('DELETE FROM mqtt_configs WHERE topic = ?');
  return {
    load: () => db.prepare('SELECT topic, owner, payload FROM mqtt_configs ORDER BY topic').all() as Array<{ topic: string; owner: string; payload: string }>,
    save(topic, owner, payload) {
      const row = select.get(topic) as { owner: string; payload: string } | undefined;
      if (row && row.owner === owner && row.payload === payload) return;
      write(() => upsert.run(topic, owner, payload, now()));
    },
    remove(topic) {
      write(() => del.run(topic));
    },
  };
}
