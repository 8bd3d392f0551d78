import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { openDb, type Db } from '../../gateway/store/db.ts';
import { listDevices } from '../../gateway/store/deviceQueries.ts';
import { HistoryWriter } from '../../gateway/store/historyWriter.ts';
import { unsaved } from '../../gateway/store/lastValues.ts';
import { DeviceRegistry } from '../../gateway/store/registry.ts';
import { eraseHistory } from '../../gateway/store/erase.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { testBus } from '../helpers/bus.ts';

const bus = testBus();

const dirs = new TempDirs();
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  dirs.cleanup();
});

function start(file: string, lastValuesEveryMs = 3_600_000) {
  const db = openDb(file, { synchronous: 'normal' });
  open.push(db);
  const registry = new DeviceRegistry(db);
  registry.load();
  registry.upsert({
    id: 'd1',
    name: 'D1',
    protocol: 'mqtt',
    owner: 'd1',
    attributes: { t: { type: 'number', writable: false }, mode: { type: 'string', writable: false } },
  });
  const writer = new HistoryWriter(db, registry, { flushMs: 10_000, batchSize: 100_000, lastValuesEveryMs, bus });
  return { db, registry, writer };
}

const reading = (attribute: string, value: number | string, ts: number): DeviceEvent => ({ kind: 'reading', deviceId: 'd1', attribute, value, ts });
const stateRows = (db: Db) => db.prepare('SELECT s.attribute, st.value, st.ts FROM state st JOIN series s ON s.id = st.series_id ORDER BY s.attribute').all();
const lastSeen = (db: Db) => (db.prepare('SELECT last_seen FROM devices WHERE id = ?').get('d1') as { last_seen: number | null }).last_seen;

describe('last values (state and last_seen saved every few minutes, rebuilt from history)', () => {
  it('commits readings without touching state until the interval or close, and readers see the unsaved values', () => {
    const { db, writer } = start(`${dirs.make()}/trellis.db`);
    writer.append([reading('t', 1, 1000), reading('t', 2, 2000), reading('mode', 'eco', 1500)]);
    writer.flush();
    expect(stateRows(db)).toEqual([]);
    expect(lastSeen(db)).toBeNull();
    const attributes = listDevices(db)[0]?.attributes;
    expect(attributes?.t).toMatchObject({ value: 2, ts: 2000 });
    expect(attributes?.mode).toMatchObject({ value: 'eco', ts: 1500 });
    expect(listDevices(db)[0]?.lastSeen).toBe(2000);
    writer.close();
    expect(stateRows(db)).toEqual([
      { attribute: 'mode', value: 'eco', ts: 1500 },
      { attribute: 't', value: 2, ts: 2000 },
    ]);
    expect(lastSeen(db)).toBe(2000);
    expect(unsaved(db).values.size).toBe(0);
  });

  it('after a crash, catch-up folds the unsaved readings into state (newest by time, not by arrival)', () => {
    const file = `${dirs.make()}/trellis.db`;
    const first = start(file);
    first.writer.append([reading('t', 1, 1000)]);
    first.writer.close(); // saved: t = 1
    const second = start(file);
    second.writer.append([reading('t', 5, 5000), reading('t', 4, 4000), reading('mode', 'boost', 4500)]);
    second.writer.flush();
    second.db.close(); // a crash: the writer never saves
    const third = start(file);
    expect(stateRows(third.db)).toEqual([{ attribute: 't', value: 1, ts: 1000 }]);
    expect(third.writer.catchUp()).toBe(2);
    expect(stateRows(third.db)).toEqual([
      { attribute: 'mode', value: 'boost', ts: 4500 },
      { attribute: 't', value: 5, ts: 5000 },
    ]);
    expect(lastSeen(third.db)).toBe(5000);
    expect(third.writer.catchUp()).toBe(0); // the marks moved
  });

  it('writes the last values inside a commit once the interval has passed', async () => {
    const { db, writer } = start(`${dirs.make()}/trellis.db`, 20);
    writer.append([reading('t', 1, 1000)]);
    writer.flush();
    expect(stateRows(db)).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    writer.append([reading('t', 2, 2000)]);
    writer.flush();
    expect(stateRows(db)).toEqual([{ attribute: 't', value: 2, ts: 2000 }]);
    expect(unsaved(db).values.size).toBe(0);
  });

  it('a batch that rolls back leaves no last value behind', () => {
    const { db, writer } = start(`${dirs.make()}/trellis.db`);
    writer.append([reading('t', 1, 1000)]);
    writer.flush();
    const untap = writer.join({
      fold: () => {
        throw new Error('disk full');
      },
      committed: () => undefined,
      rolledBack: () => undefined,
    });
    const errors: Error[] = [];
    bus.on(errors, 'storeError', (e) => errors.push(e));
    writer.append([reading('t', 99, 9000)]);
    writer.flush();
    expect(errors).toHaveLength(1);
    untap();
    writer.close();
    expect(stateRows(db)).toEqual([{ attribute: 't', value: 1, ts: 1000 }]);
  });

  it('erasing every reading keeps later readings visible (SQLite reuses the erased rowids)', () => {
    const file = `${dirs.make()}/trellis.db`;
    const first = start(file);
    for (let i = 0; i < 5; i++) first.writer.append([reading('t', i, 1000 + i)]);
    first.writer.saveLastValues();
    eraseHistory(first.db, {});
    expect(stateRows(first.db)).toEqual([]);
    first.writer.append([reading('t', 42, 9000)]);
    first.writer.flush();
    first.db.close(); // crash before the next save
    const second = start(file);
    second.writer.catchUp();
    expect(stateRows(second.db)).toEqual([{ attribute: 't', value: 42, ts: 9000 }]);
  });
});
