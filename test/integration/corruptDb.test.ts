import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../gateway/store/credentials.ts';
import { openDb } from '../../gateway/store/db.ts';
import { freePort, spawnGateway } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/**
 * A damaged database at boot: the gateway process sets the file aside, starts with a fresh one,
 * raises a critical alert and serves (well within 30 s); the next start is an ordinary one.
 */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

async function bootWith(damage: (dbFile: string) => void | Promise<void>) {
  const dir = dirs.make();
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const dbFile = join(data, 'trellis.db');
  await damage(dbFile);
  const config = join(dir, 'trellis.yaml');
  writeFileSync(config, `dataDir: ${data}\nmqtt: {host: 127.0.0.1, port: ${await freePort()}}\nlan: {host: 127.0.0.1, port: ${await freePort()}}\n`);
  const started = Date.now();
  const gw = await spawnGateway(config, 30_000);
  const tookMs = Date.now() - started;
  await waitFor(() => gw.output().includes('"msg":"LAN API and phone UI listening"'), 30_000, 'started through to the LAN API');
  await gw.stop();
  const aside = readdirSync(data).filter((f) => /^trellis\.db\.corrupt-[0-9T-]+Z$/.test(f));
  const db = openDb(dbFile, { synchronous: 'normal' });
  const alerts = db.prepare("SELECT severity, source, message FROM alerts WHERE source = 'gateway'").all() as Array<{ severity: string; message: string }>;
  db.close();
  const again = await spawnGateway(config, 30_000); // and the next start is ordinary
  await again.stop();
  return { tookMs, aside, alerts, after: readdirSync(data).filter((f) => f.includes('.corrupt-')).length, output: gw.output() };
}

describe('a damaged database at boot', () => {
  it('a zeroed file is set aside; the gateway serves and raises an alert', async () => {
    const r = await bootWith((f) => writeFileSync(f, Buffer.alloc(64 * 1024)));
    expect(r.tookMs).toBeLessThan(30_000);
    expect(r.aside).toHaveLength(1);
    expect(r.alerts).toEqual([expect.objectContaining({ severity: 'critical', message: expect.stringContaining('was damaged and was set aside') })]);
    expect(r.output).toContain('the database was damaged');
  });

  it('a file of random bytes too', async () => {
    const r = await bootWith((f) => writeFileSync(f, randomBytes(200 * 1024)));
    expect(r.aside).toHaveLength(1);
    expect(r.alerts).toHaveLength(1);
  });

  it('a real database with a damaged page in a table start-up reads', async () => {
    const r = await bootWith(async (f) => {
      const db = openDb(f, { synchronous: 'full' });
      const store = new CredentialStore(db);
      for (let i = 0; i < 200; i++) await store.create(`device-${i}`);
      const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'credentials'").get() as { rootpage: number };
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const fd = openSync(f, 'r+');
      writeSync(fd, randomBytes(pageSize), 0, pageSize, (rootpage - 1) * pageSize);
      closeSync(fd);
    });
    expect(r.aside).toHaveLength(1);
    expect(r.alerts).toHaveLength(1);
    expect(r.after).toBe(1); // the second start set nothing else aside
  });
});
