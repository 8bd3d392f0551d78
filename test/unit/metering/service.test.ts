import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../../drivers/types.ts';
import { MeteringService, type StoredBucket } from '../../../gateway/metering/service.ts';
import { openDb, type Db } from '../../../gateway/store/db.ts';
import { HistoryWriter } from '../../../gateway/store/historyWriter.ts';
import { DeviceRegistry } from '../../../gateway/store/registry.ts';
import { ManualClock } from '../../helpers/manualClock.ts';
import { TempDirs } from '../../helpers/tempDir.ts';
import { testBus } from '../../helpers/bus.ts';
import { UsageStore } from '../../../gateway/store/usage.ts';
import { PersistentCounters } from '../../../gateway/store/counters.ts';

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  dirs.cleanup();
});

const T = (hhmm: string) => Date.parse(`2026-05-04T${hhmm}:00Z`);

/** One "process lifetime" of the gateway's store + metering on a database file. */
function boot(file: string, clock: ManualClock) {
  const db = openDb(file, { synchronous: 'normal' });
  open.push(db);
  const registry = new DeviceRegistry(db);
  registry.load();
  registry.upsert({
    id: 'fridge',
    name: 'Fridge',
    protocol: 'mqtt',
    owner: 'fridge',
    attributes: {
      energy: { type: 'number', unit: 'kWh', stateClass: 'total_increasing', writable: false },
      compressor: { type: 'boolean', deviceClass: 'running', writable: false },
    },
  });
  const bus = testBus();
  const writer = new HistoryWriter(db, registry, { flushMs: 1000, batchSize: 10_000, lastValuesEveryMs: 60_000, bus });
  const buckets: StoredBucket[] = [];
  const metering = new MeteringService({
    store: new UsageStore(db, registry, new PersistentCounters(db)),
    registry,
    bus,
    writer,
    clock,
    log: pino({ level: 'silent' }),
    timeZone: 'UTC',
    overrides: {},
  });
  bus.on(buckets, 'buckets', (b) => buckets.push(...b));
  metering.start();
  /** Events as the hub hands them over, then committed. */
  const feed = (...events: DeviceEvent[]) => {
    for (const e of events) {
      clock.advanceTo(Math.max(clock.now(), e.ts));
      writer.append([e]);
    }
    writer.flush();
  };
  /** The process dies: its timers with it, nothing is saved on the way out (stop() writes nothing). */
  const crash = () => {
    metering.stop();
    db.close();
  };
  return { db, writer, metering, buckets, feed, crash };
}

const online = (hhmm: string): DeviceEvent => ({ kind: 'availability', deviceId: 'fridge', ts: T(hhmm), online: true });
const energy = (hhmm: string, value: number): DeviceEvent => ({ kind: 'reading', deviceId: 'fridge', attribute: 'energy', ts: T(hhmm), value });
const compressor = (hhmm: string, value: boolean): DeviceEvent => ({ kind: 'reading', deviceId: 'fridge', attribute: 'compressor', ts: T(hhmm), value });

describe('MeteringService: crash and restart', () => {
  it('rebuilds the open hour from stored readings after a crash, and marks the downtime as a gateway gap', () => {
    const file = `${dirs.make()}/trellis.db`;
    const clock = new ManualClock(T('10:05'));
    const first = boot(file, clock);
    first.feed(
      online('10:05'),
      energy('10:05', 1.0),
      compressor('10:05', false),
      compressor('10:10', true),
      energy('10:20', 1.5),
      compressor('10:30', false),
      energy('10:50', 2.0),
    );
    first.crash();

    clock.advanceTo(T('10:55'));
    const second = boot(file, clock);
    second.feed(online('10:58'), energy('10:58', 2.1), energy('11:05', 2.25));
    expect(second.buckets).toHaveLength(1);
    const b = second.buckets[0] as StoredBucket;
    expect(b.start).toBe(T('10:00'));
    expect(b.metrics.energy).toEqual({ role: 'energy', unit: 'Wh', delta: 1100, resets: 0, rollovers: 0, samples: 4 });
    expect(b.metrics.compressor).toEqual({ role: 'on', seconds: 20 * 60, starts: 1, samples: 3 });
    expect(b.gaps).toEqual([
      { from: T('10:00'), to: T('10:05'), reason: 'offline' },
      { from: T('10:50'), to: T('10:58'), reason: 'gateway' },
    ]);
    // the same numbers are in the table, stored once
    const rows = second.db.prepare('SELECT seq, data FROM usage_buckets').all() as Array<{ seq: number; data: string }>;
    expect(rows).toHaveLength(1);
    const { seq, ...stored } = b;
    expect(rows[0]?.seq).toBe(seq);
    expect(JSON.parse(rows[0]?.data ?? '')).toEqual(stored);
  });

  it('never stores or hands over a bucket twice, and does not count a reading twice after restarts', () => {
    const file = `${dirs.make()}/trellis.db`;
    const clock = new ManualClock(T('10:00'));
    const a = boot(file, clock);
    a.feed(online('10:00'), energy('10:00', 10), energy('10:30', 11), energy('11:10', 12));
    expect(a.buckets.map((b) => b.start)).toEqual([T('10:00')]);
    a.crash(); // crash right after the close: the checkpoint was written with the bucket

    const b = boot(file, clock);
    expect(b.buckets).toEqual([]); // hour 10 is not closed again
    b.feed(energy('11:20', 12.5));
    b.crash();

    clock.advanceTo(T('11:30'));
    const c = boot(file, clock);
    c.feed(online('11:30'), energy('11:40', 13));
    clock.advanceTo(T('12:00') + 1500); // the close timer, no reading needed
    expect(c.buckets.map((x) => x.start)).toEqual([T('11:00')]);
    // 11 -> 12 at 11:10 (1 kWh), 12 -> 12.5 (0.5), 12.5 -> 13 (0.5): each counted once
    expect(c.buckets[0]?.metrics.energy).toMatchObject({ delta: 2000 });
    expect((c.db.prepare('SELECT count(*) AS n FROM usage_buckets').get() as { n: number }).n).toBe(2);
  });

  it('a bucket closes on the hour even when no device reports', () => {
    const clock = new ManualClock(T('10:00'));
    const g = boot(`${dirs.make()}/trellis.db`, clock);
    g.feed(online('10:00'), compressor('10:00', true));
    clock.advanceTo(T('11:00') + 1000);
    expect(g.buckets).toHaveLength(1);
    expect(g.buckets[0]?.metrics.compressor).toMatchObject({ seconds: 3600 });
    g.metering.stop();
  });
});
