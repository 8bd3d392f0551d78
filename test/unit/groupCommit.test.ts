import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { openDb, type Db } from '../../gateway/store/db.ts';
import { HistoryWriter } from '../../gateway/store/historyWriter.ts';
import { DeviceRegistry } from '../../gateway/store/registry.ts';
import { WalSync, type FileSync } from '../../gateway/store/walSync.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/**
 * Group commit of readings a device waits on (QoS 1): a waiter with no sync running is committed at
 * the end of its turn and synced at once; those arriving during a sync share the next commit. The
 * sync is a test double: held until the test lets it go, or slow like an SD card's.
 */
const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  dirs.cleanup();
});

function setup(sync: FileSync) {
  const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'full' });
  open.push(db);
  const registry = new DeviceRegistry(db);
  registry.upsert({ id: 'd1', name: 'D1', protocol: 'mqtt', owner: 'd1', attributes: { t: { type: 'number', writable: false } } });
  const walSync = new WalSync(`${db.name}-wal`, sync);
  const writer = new HistoryWriter(db, registry, { flushMs: 10_000, batchSize: 100_000, lastValuesEveryMs: 60_000, walSync });
  return { db, writer, walSync };
}

const reading = (value: number): DeviceEvent => ({ kind: 'reading', deviceId: 'd1', attribute: 't', value, ts: value });
const count = (db: Db) => (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
const turn = () => new Promise((r) => setImmediate(r));

function heldSync() {
  const pending: Array<(err?: Error) => void> = [];
  const sync: FileSync = (_file, done) => pending.push(done);
  return { sync, pending, finish: () => pending.shift()?.() };
}

describe('group commit of acknowledged readings', () => {
  it('commits a lone waiter at the end of its turn and syncs at once; it is called after the sync', async () => {
    const held = heldSync();
    const { db, writer } = setup(held.sync);
    const acked: number[] = [];
    writer.append([reading(1)], () => acked.push(count(db)));
    writer.append([reading(2)], () => acked.push(count(db))); // same turn: same commit
    expect(count(db)).toBe(0);
    await turn();
    expect(count(db)).toBe(2);
    expect(held.pending).toHaveLength(1);
    expect(acked).toEqual([]);
    held.finish();
    expect(acked).toEqual([2, 2]);
    expect(writer.stats().commits).toBe(1);
  });

  it('waiters arriving while a sync runs wait for it, then share one commit and one sync', async () => {
    const held = heldSync();
    const { db, writer } = setup(held.sync);
    const acked: string[] = [];
    writer.append([reading(1)], () => acked.push('a'));
    await turn();
    for (const [i, name] of ['b', 'c', 'd'].entries()) {
      writer.append([reading(10 + i)], () => acked.push(name));
      await turn(); // arriving over several turns
    }
    expect(count(db)).toBe(1); // not committed while the first sync runs
    expect(writer.stats().commits).toBe(1);
    held.finish();
    expect(acked).toEqual(['a']);
    await turn();
    expect(count(db)).toBe(4);
    expect(writer.stats().commits).toBe(2);
    expect(held.pending).toHaveLength(1);
    held.finish();
    expect(acked).toEqual(['a', 'b', 'c', 'd']);
  });

  it("on an SD card's slow fsync (30 ms), the sync sets the batch: ~one commit per sync, each waiter within two syncs", async () => {
    const syncMs = 30;
    const { writer, walSync } = setup((_file, done) => setTimeout(() => done(), syncMs));
    const latencies: number[] = [];
    const started = performance.now();
    let n = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const at = performance.now();
        writer.append([reading(++n)], () => latencies.push(performance.now() - at));
        if (performance.now() - started >= 600) {
          clearInterval(timer);
          resolve();
        }
      }, 2); // ~500 readings/s
    });
    await new Promise((r) => setTimeout(r, 3 * syncMs));
    expect(latencies).toHaveLength(n);
    const { commits } = writer.stats();
    const syncs = walSync.stats().syncs;
    expect(commits).toBe(syncs);
    expect(commits).toBeLessThanOrEqual(Math.ceil(700 / syncMs)); // ~20, not one per reading (~300)
    expect(n / commits).toBeGreaterThan(5);
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.5)]).toBeLessThan(2 * syncMs + 15);
  });

  it('a flood that starves immediates still commits a waiter from append after 5 ms when no sync runs', () => {
    const held = heldSync();
    const { db, writer } = setup(held.sync);
    writer.append([reading(1)], () => undefined);
    const until = performance.now() + 8;
    while (performance.now() < until) {
      // a busy event loop: the immediate cannot run
    }
    writer.append([reading(2)], () => undefined);
    expect(count(db)).toBe(2);
  });
});

describe('the wear guard (AckBatching)', () => {
  it('holds a commit only when readings arrive fast enough to fill half a batch within the wait', async () => {
    const { AckBatching } = await import('../../gateway/store/ackBatching.ts');
    const slow = new AckBatching({ minBatch: 50, maxWaitMs: 25 });
    for (let t = 0; t <= 300; t += 2) slow.arrived(t); // 500/s
    expect(slow.holdMs(300, 5, 300)).toBe(0);
    const fast = new AckBatching({ minBatch: 50, maxWaitMs: 25 });
    for (let t = 0; t <= 300; t += 0.5) fast.arrived(t); // 2,000/s
    expect(fast.holdMs(300, 20, 300)).toBe(25);
    expect(fast.holdMs(310, 40, 300)).toBe(15); // the oldest has waited 10 ms
    expect(fast.holdMs(310, 50, 300)).toBe(0); // full
    expect(fast.full(50)).toBe(true);
  });

  it('in the writer: at a high rate a commit waits for the batch, and goes as soon as it is full', async () => {
    const held = heldSync();
    const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'full' });
    open.push(db);
    const registry = new DeviceRegistry(db);
    registry.upsert({ id: 'd1', name: 'D1', protocol: 'mqtt', owner: 'd1', attributes: { t: { type: 'number', writable: false } } });
    const writer = new HistoryWriter(db, registry, {
      flushMs: 10_000,
      batchSize: 100_000,
      lastValuesEveryMs: 60_000,
      walSync: new WalSync(`${db.name}-wal`, held.sync),
      ackBatch: { minBatch: 10, maxWaitMs: 200 },
    });
    // 10 readings within 1 ms, 150 ms ago: the rate says a batch of 10 fills in time
    let n = 0;
    for (let i = 0; i < 10; i++) writer.append([reading(++n)], () => undefined);
    await turn();
    held.finish(); // their commit (the first, no rate known yet) is synced
    await new Promise((r) => setTimeout(r, 120)); // the rate window closes with the next arrival
    for (let i = 0; i < 3; i++) writer.append([reading(++n)], () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(count(db)).toBe(10); // held: 3 of 10
    for (let i = 0; i < 7; i++) writer.append([reading(++n)], () => undefined);
    await turn();
    expect(count(db)).toBe(20); // full: committed at once
  });
});
