import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseFile, openDb } from '../../gateway/store/db.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway } from '../helpers/testGateway.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe('database encryption at rest (store.keyFile)', () => {
  it('keeps readings unreadable in the files, readable with the key, and refuses a wrong key clearly', async () => {
    const keyDir = dirs.make();
    const keyFile = join(keyDir, 'db.key');
    const gw = await startTestGateway({ store: { keyFile } }, dirs);
    const marker = 'MARKER-encrypted-9c1e';
    try {
      expect(statSync(keyFile).mode & 0o777).toBe(0o600); // created on first start
      gw.running.hub.describe({
        id: 'secret-sensor',
        name: 'Secret sensor',
        protocol: 'mqtt',
        owner: 'secret-sensor',
        attributes: { note: { type: 'string', writable: false } },
      });
      gw.running.hub.ingest([{ kind: 'reading', deviceId: 'secret-sensor', attribute: 'note', value: marker, ts: Date.now() }]);
      gw.running.writer.flush();
      const file = databaseFile(gw.dir);
      for (const f of [file, `${file}-wal`]) {
        if (!existsSync(f)) continue;
        const bytes = readFileSync(f);
        expect(bytes.includes(Buffer.from(marker)), f).toBe(false);
        expect(bytes.includes(Buffer.from('secret-sensor')), f).toBe(false);
      }
      expect(readFileSync(file).subarray(0, 15).toString()).not.toBe('SQLite format 3');
      await gw.gateway.stop();
      const again = await gw.gateway.start();
      expect(again.hub.state.get('secret-sensor', 'note')).toBe(marker);
      await gw.gateway.stop();
      writeFileSync(keyFile, 'f'.repeat(64));
      expect(() => openDb(file, { synchronous: 'normal', key: 'f'.repeat(64) })).toThrow(/the key is wrong, or the database was created without encryption/);
      expect(() => openDb(file, { synchronous: 'normal' })).toThrow(/TRELLIS_E_STORE|cannot prepare database|file is not a database/);
    } finally {
      await gw.stop();
    }
  });
});
