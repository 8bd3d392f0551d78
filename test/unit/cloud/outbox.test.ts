import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../../gateway/store/outbox.ts';
import { openDb, type Db } from '../../../gateway/store/db.ts';
import { TempDirs } from '../../helpers/tempDir.ts';

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dirs.cleanup();
});

function setup(maxBytes = 1_000_000, file = `${dirs.make()}/trellis.db`) {
  const db = openDb(file, { synchronous: 'normal' });
  open.push(db);
  let t = 1_000;
  return { db, file, outbox: new Outbox(db, { gatewayId: 'gw', maxBytes, now: () => t++ }) };
}

const seqs = (records: Array<{ seq: number }>) => records.map((r) => r.seq);

describe('Outbox', () => {
  it('drains alarms before usage before maintenance before telemetry, in order within each', () => {
    const { outbox } = setup();
    const t1 = outbox.enqueue('telemetry', 't', 'health', {});
    const u1 = outbox.enqueue('usage', 'u', 'usage', {});
    const a1 = outbox.enqueue('alarm', 'a', 'alert', {});
    const u2 = outbox.enqueue('usage', 'u', 'usage', {});
    const m1 = outbox.enqueue('maintenance', 'm', 'maintenance', {});
    expect(seqs(outbox.next([0, 0, 0, 0], 10))).toEqual([a1, u1, u2, m1, t1]);
    expect(seqs(outbox.next([a1, u1, 0, 0], 2))).toEqual([u2, m1]);
  });

  it('wraps each record in a versioned envelope with the idempotency key gatewayId:seq', () => {
    const { outbox } = setup();
    const seq = outbox.enqueue('usage', 'trellis/v1/gw/usage/d1', 'usage', { deviceId: 'd1' });
    const [r] = outbox.next([0, 0, 0, 0], 1);
    expect(r?.topic).toBe('trellis/v1/gw/usage/d1');
    expect(JSON.parse(r?.payload ?? '')).toEqual({ v: 1, key: `gw:${seq}`, seq, gatewayId: 'gw', type: 'usage', at: 1000, data: { deviceId: 'd1' } });
  });

  it('deletes only acknowledged records; the rest survive a reopen, and sequence numbers never repeat', () => {
    const { db, file, outbox } = setup();
    const a = outbox.enqueue('usage', 'u', 'usage', { n: 1 });
    const b = outbox.enqueue('usage', 'u', 'usage', { n: 2 });
    outbox.ack([a]);
    db.close();
    open.splice(open.indexOf(db), 1);
    const again = setup(1_000_000, file).outbox;
    expect(seqs(again.next([0, 0, 0, 0], 10))).toEqual([b]);
    again.ack([b]);
    expect(again.enqueue('usage', 'u', 'usage', {})).toBe(b + 1); // even with the queue empty
    expect(again.stats().depth).toBe(1);
  });

  it('over its byte bound it drops the lowest priority, oldest first, and counts the drops', () => {
    const { outbox } = setup(2_000);
    const alarm = outbox.enqueue('alarm', 'a', 'alert', { pad: 'x'.repeat(100) });
    const usage = outbox.enqueue('usage', 'u', 'usage', { pad: 'x'.repeat(100) });
    const telemetry = Array.from({ length: 20 }, () => outbox.enqueue('telemetry', 't', 'health', { pad: 'x'.repeat(100) }));
    const stats = outbox.stats();
    expect(stats.bytes).toBeLessThanOrEqual(2_000);
    const left = seqs(outbox.next([0, 0, 0, 0], 100));
    expect(left.slice(0, 2)).toEqual([alarm, usage]); // higher priorities untouched
    const keptTelemetry = left.slice(2);
    expect(keptTelemetry).toEqual(telemetry.slice(telemetry.length - keptTelemetry.length)); // the newest kept
    const t = stats.byPriority.find((p) => p.priority === 'telemetry');
    expect(t?.dropped).toBe(20 - keptTelemetry.length);
    expect(t?.droppedBytes).toBeGreaterThan(0);
    expect(stats.byPriority.find((p) => p.priority === 'usage')?.dropped).toBe(0);
    // Then usage goes before alarms
    for (let i = 0; i < 20; i++) outbox.enqueue('alarm', 'a', 'alert', { pad: 'y'.repeat(100) });
    const after = outbox.stats();
    expect(after.byPriority.find((p) => p.priority === 'telemetry')?.depth).toBe(0);
    expect(after.byPriority.find((p) => p.priority === 'usage')?.dropped).toBe(1);
    expect(after.bytes).toBeLessThanOrEqual(2_000);
  });

  it('a record queued inside a transaction that rolls back is gone, and the byte count stays true', () => {
    const { db, outbox } = setup();
    expect(() =>
      db.transaction(() => {
        outbox.enqueue('usage', 'u', 'usage', { n: 1 });
        throw new Error('the readings commit failed');
      })(),
    ).toThrow('readings commit failed');
    const stats = outbox.stats();
    expect(stats.depth).toBe(0);
    expect(stats.bytes).toBe(0);
  });

  it('reports depth, bytes and the oldest record per priority', () => {
    const { outbox } = setup();
    outbox.enqueue('maintenance', 'm', 'maintenance', {});
    outbox.enqueue('maintenance', 'm', 'maintenance', {});
    const m = outbox.stats().byPriority.find((p) => p.priority === 'maintenance');
    expect(m).toMatchObject({ depth: 2, oldestAt: 1000 });
    expect(outbox.stats().oldestAt).toBe(1000);
  });
});
