import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { openDb, type Db } from '../../gateway/store/db.ts';
import { HistoryWriter } from '../../gateway/store/historyWriter.ts';
import { DeviceRegistry } from '../../gateway/store/registry.ts';
import { WalSync, fileSync, offLoopWrites, type FileSync } from '../../gateway/store/walSync.ts';
import { sqliteRetainedConfigs } from '../../gateway/store/retainedConfigs.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { testBus } from '../helpers/bus.ts';

const bus = testBus();

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  dirs.cleanup();
});

/** A sync that finishes only when the test says so, counting how often it ran. */
function heldSync() {
  const pending: Array<(err?: Error) => void> = [];
  const sync: FileSync = (_file, done) => pending.push(done);
  return { sync, pending, finish: (err?: Error) => pending.shift()?.(err) };
}

describe('WalSync (fsync off the event loop)', () => {
  it('calls back only after the sync that started after the request; requests during a sync share the next one', () => {
    const held = heldSync();
    const walSync = new WalSync('/nonexistent-wal', held.sync);
    const done: string[] = [];
    walSync.request(() => done.push('a'));
    expect(held.pending).toHaveLength(1);
    walSync.request(() => done.push('b')); // written after sync 1 started: sync 1 does not cover it
    walSync.request(() => done.push('c'));
    expect(held.pending).toHaveLength(1);
    held.finish();
    expect(done).toEqual(['a']);
    expect(held.pending).toHaveLength(1); // one more sync for b and c together
    held.finish();
    expect(done).toEqual(['a', 'b', 'c']);
    expect(held.pending).toHaveLength(0);
    expect(walSync.stats().syncs).toBe(2);
  });

  it('passes a failed sync on to its waiters', () => {
    const held = heldSync();
    const walSync = new WalSync('/nonexistent-wal', held.sync);
    const errors: Array<Error | undefined> = [];
    walSync.request((err) => errors.push(err));
    held.finish(new Error('EIO'));
    expect(errors.map((e) => e?.message)).toEqual(['EIO']);
  });

  it('fdatasyncs a real file and reports a missing one', async () => {
    const file = `${dirs.make()}/wal`;
    writeFileSync(file, 'frames');
    await expect(new Promise<Error | undefined>((resolve) => fileSync(file, resolve))).resolves.toBeUndefined();
    const missing = await new Promise<Error | undefined>((resolve) => fileSync(`${file}-gone`, resolve));
    expect(missing?.message).toMatch(/ENOENT/);
  });

  it('the history writer acknowledges a commit only after its WAL sync, and commits without fsync', async () => {
    const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'full' });
    open.push(db);
    const registry = new DeviceRegistry(db);
    registry.upsert({ id: 'd1', name: 'D1', protocol: 'mqtt', owner: 'd1', attributes: { t: { type: 'number', writable: false } } });
    const held = heldSync();
    const writer = new HistoryWriter(db, registry, {
      flushMs: 10_000,
      batchSize: 1000,
      lastValuesEveryMs: 60_000,
      walSync: new WalSync(`${db.name}-wal`, held.sync),
      bus,
    });
    const reading: DeviceEvent = { kind: 'reading', deviceId: 'd1', attribute: 't', value: 1, ts: 1 };
    const acked: Array<Error | undefined> = [];
    writer.append([reading], (err) => acked.push(err));
    writer.flush();
    expect((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n).toBe(1); // committed
    expect(acked).toEqual([]); // but not acknowledged: not on disk yet
    expect(held.pending).toHaveLength(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again for every other writer
    held.finish();
    expect(acked).toEqual([undefined]);
    // a failed sync of a commit nobody waits on is reported, not dropped
    const errors: Error[] = [];
    bus.on(errors, 'storeError', (err) => errors.push(err));
    writer.append([{ ...reading, ts: 2 }]);
    writer.flush();
    held.finish(new Error('EIO'));
    expect(errors.map((e) => e.message)).toEqual(['EIO']);
  });

  it('registrations and retained configs commit without an fsync on the loop, and ask for one after', () => {
    const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'full' });
    open.push(db);
    const held = heldSync();
    const offLoop = offLoopWrites(db, new WalSync(`${db.name}-wal`, held.sync));
    const registry = new DeviceRegistry(db, offLoop);
    registry.upsert({ id: 'd1', name: 'D1', protocol: 'mqtt', owner: 'd1', attributes: { t: { type: 'number', writable: false } } });
    sqliteRetainedConfigs(db, offLoop).save('trellis/d1/config', 'd1', '{}');
    expect((db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n).toBe(1);
    expect((db.prepare('SELECT count(*) AS n FROM mqtt_configs').get() as { n: number }).n).toBe(1);
    expect(held.pending).toHaveLength(1); // the second request waits for the running sync
    held.finish();
    expect(held.pending).toHaveLength(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // inside a caller's transaction the safety level cannot change: the write simply joins it
    db.transaction(() => sqliteRetainedConfigs(db, offLoop).save('trellis/d2/config', 'd2', '{}'))();
    expect((db.prepare('SELECT count(*) AS n FROM mqtt_configs').get() as { n: number }).n).toBe(2);
  });
});
