import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { openDb, type Db } from '../../gateway/store/db.ts';
import { migrations } from '../../gateway/store/migrations.ts';
import { HistoryWriter } from '../../gateway/store/historyWriter.ts';
import { DeviceRegistry } from '../../gateway/store/registry.ts';
import { RetentionPruner } from '../../gateway/store/retention.ts';
import { CredentialStore } from '../../gateway/store/credentials.ts';
import { TempDirs } from '../helpers/tempDir.ts';

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dirs.cleanup();
});

function setup(partial: { flushMs: number; batchSize: number; lastValuesEveryMs?: number } = { flushMs: 20, batchSize: 1000 }) {
  const options = { lastValuesEveryMs: 0, ...partial };
  const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'normal' });
  open.push(db);
  const registry = new DeviceRegistry(db);
  registry.upsert({
    id: 'd1',
    name: 'D1',
    protocol: 'mqtt',
    owner: 'd1',
    attributes: { t: { type: 'number', writable: false }, on: { type: 'boolean', writable: true } },
  });
  return { db, registry, writer: new HistoryWriter(db, registry, options) };
}

const reading = (value: number, ts: number): DeviceEvent => ({ kind: 'reading', deviceId: 'd1', attribute: 't', value, ts });
const count = (db: Db) => (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;

describe('store', () => {
  it('migrates a new database to the latest version, and refuses a newer one', () => {
    const file = `${dirs.make()}/trellis.db`;
    const db = openDb(file, { synchronous: 'full' });
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => openDb(file, { synchronous: 'full' })).toThrow(/newer than this Trellis/);
  });

  it('calls a waiter only after its readings are committed, sharing one commit per turn', async () => {
    const { db, writer } = setup({ flushMs: 10_000, batchSize: 1000 });
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) writer.append([reading(i, 1000 + i)], () => seen.push(count(db)));
    expect(count(db)).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([5, 5, 5, 5, 5]);
    expect(writer.stats().commits).toBe(1);
  });

  it('commits readings without waiters within flushMs, and keeps the latest state per attribute', async () => {
    const { db, writer } = setup({ flushMs: 20, batchSize: 1000 });
    writer.append([reading(1, 1000), reading(2, 2000), { kind: 'reading', deviceId: 'd1', attribute: 'on', value: true, ts: 1500 }]);
    expect(count(db)).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(count(db)).toBe(3);
    const state = db.prepare('SELECT s.attribute, st.value, st.ts FROM state st JOIN series s ON s.id = st.series_id ORDER BY s.attribute').all();
    expect(state).toEqual([
      { attribute: 'on', value: 1, ts: 1500 },
      { attribute: 't', value: 2, ts: 2000 },
    ]);
    expect(db.prepare('SELECT last_seen FROM devices WHERE id = ?').get('d1')).toEqual({ last_seen: 2000 });
  });

  it('commits as soon as batchSize events wait, without waiting for the event loop', () => {
    const { db, writer } = setup({ flushMs: 10_000, batchSize: 3 });
    writer.append([reading(1, 1), reading(2, 2)]);
    expect(count(db)).toBe(0);
    writer.append([reading(3, 3)]);
    expect(count(db)).toBe(3);
  });

  it('commits on append once the oldest event has waited flushMs, even when no timer could run', () => {
    const { db, writer } = setup({ flushMs: 30, batchSize: 1_000_000 });
    writer.append([reading(1, 1)]);
    const until = performance.now() + 40;
    while (performance.now() < until) {
      // a busy event loop: the flush timer cannot fire
    }
    expect(count(db)).toBe(0);
    writer.append([reading(2, 2)]);
    expect(count(db)).toBe(2);
  });

  it('tells waiters when a commit fails, and refuses events after close', async () => {
    const { db, writer } = setup();
    db.exec('DROP TABLE readings');
    const err = await new Promise<Error | undefined>((resolve) => writer.append([reading(1, 1)], resolve));
    expect(err?.message).toMatch(/no such table/);
    expect(writer.stats().failedCommits).toBe(1);
    writer.close();
    const late = await new Promise<Error | undefined>((resolve) => writer.append([reading(1, 1)], resolve));
    expect(late?.message).toBe('history writer is closed');
  });

  it('prunes old readings in bounded steps and stops at the first young one', async () => {
    const { db, writer } = setup({ flushMs: 10_000, batchSize: 100_000 });
    const events: DeviceEvent[] = [];
    for (let i = 0; i < 5000; i++) events.push(reading(i, i < 4500 ? 1000 + i : 100_000 + i));
    writer.append(events);
    writer.flush();
    const pruner = new RetentionPruner(db, 1000);
    const first = pruner.step(50_000);
    expect(first).toEqual({ deleted: 1000, done: false });
    expect(await pruner.run(50_000)).toBe(3500);
    expect(count(db)).toBe(500);
    expect(pruner.step(50_000)).toEqual({ deleted: 0, done: true });
    expect((db.prepare('SELECT min(ts) AS m FROM readings').get() as { m: number }).m).toBe(104_500);
  });

  it('prunes usage buckets older than their own cutoff in bounded steps', async () => {
    const { db } = setup();
    const insert = db.prepare('INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?)');
    for (let h = 0; h < 2500; h++) insert.run('d1', h * 3_600_000, (h + 1) * 3_600_000, '{}');
    const pruner = new RetentionPruner(db, 1000);
    expect(pruner.stepUsage(2000 * 3_600_000)).toBe(false); // 1000 of 2000 old ones
    expect((db.prepare('SELECT count(*) AS n FROM usage_buckets').get() as { n: number }).n).toBe(1500);
    await pruner.run(0, 2000 * 3_600_000); // readings cutoff 0: only usage goes
    expect(db.prepare('SELECT count(*) AS n, min(start) AS m FROM usage_buckets').get()).toEqual({ n: 500, m: 2000 * 3_600_000 });
  });

  it('keeps the series (and history) of an attribute a later description omits', () => {
    const { registry } = setup();
    const before = registry.get('d1')?.seriesIds.t;
    const after = registry.upsert({ id: 'd1', name: 'D1 renamed', protocol: 'mqtt', owner: 'd1', attributes: { on: { type: 'boolean', writable: true } } });
    expect(after.seriesIds.t).toBe(before);
    expect(Object.keys(after.attributes).sort()).toEqual(['on', 't']);
    expect(after.name).toBe('D1 renamed');
  });

  it('stores credentials as argon2id hashes and verifies them', async () => {
    const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'normal' });
    open.push(db);
    const store = new CredentialStore(db);
    const password = await store.create('plug-1');
    const row = db.prepare('SELECT hash FROM credentials WHERE username = ?').get('plug-1') as { hash: string };
    expect(row.hash).toMatch(/^\$argon2id\$/);
    expect(row.hash).not.toContain(password);
    expect(await store.verify('plug-1', password)).toMatchObject({ username: 'plug-1', topics: ['plug-1/#', 'trellis/plug-1/#'] });
    expect(await store.verify('plug-1', password)).toBeDefined(); // cached path
    expect(await store.verify('plug-1', 'wrong')).toBeUndefined();
    expect(await store.verify('nobody', password)).toBeUndefined();
    await expect(store.create('plug-1')).rejects.toThrow(/already has a credential/);
    await expect(store.create('bad/name')).rejects.toThrow(/expected 1-64 letters/);
    const rotated = await store.rotate('plug-1');
    expect(await store.verify('plug-1', password)).toBeUndefined();
    expect(await store.verify('plug-1', rotated)).toBeDefined();
  });
});
