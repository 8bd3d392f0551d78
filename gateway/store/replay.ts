import type { DeviceEvent } from '../../drivers/types.ts';
import type { Db } from './db.ts';
import type { DeviceRegistry } from './registry.ts';

/**
 * The stored readings and availability events after a checkpoint, as device events in time order
 * (availability first on equal times, as the hub emits it before the reading that brought a device
 * back). Values come back with the attribute's type: booleans are stored as 0/1.
 */
export function* replayEvents(db: Db, registry: DeviceRegistry, afterReading: number, afterEvent: number): Generator<DeviceEvent> {
  const series = new Map<number, { deviceId: string; attribute: string; type: string }>();
  for (const d of registry.all()) {
    for (const [attribute, id] of Object.entries(d.seriesIds)) series.set(id, { deviceId: d.id, attribute, type: d.attributes[attribute]?.type ?? 'number' });
  }
  const availability = db
    .prepare<[number], { device_id: string; ts: number; data: string }>(
      "SELECT device_id, ts, data FROM device_events WHERE id > ? AND kind = 'availability' ORDER BY id",
    )
    .all(afterEvent)
    .map((r): DeviceEvent => ({ kind: 'availability', deviceId: r.device_id, ts: r.ts, online: (JSON.parse(r.data) as { online: boolean }).online }));
  let next = 0;
  const rows = db
    .prepare<[number], { series_id: number; ts: number; num: number | null; txt: string | null }>(
      'SELECT series_id, ts, num, txt FROM readings WHERE rowid > ? ORDER BY rowid',
    )
    .iterate(afterReading);
  for (const r of rows) {
    while (next < availability.length && (availability[next] as DeviceEvent).ts <= r.ts) yield availability[next++] as DeviceEvent;
    const s = series.get(r.series_id);
    if (!s) continue;
    const value = r.txt ?? (s.type === 'boolean' ? r.num === 1 : r.num);
    if (value === null) continue;
    yield { kind: 'reading', deviceId: s.deviceId, attribute: s.attribute, ts: r.ts, value };
  }
  while (next < availability.length) yield availability[next++] as DeviceEvent;
}
