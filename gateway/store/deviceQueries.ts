import type { AttributeType, AttributeValue } from '../../drivers/types.ts';
import { fromStored } from '../stateCache.ts';
import type { Db } from './db.ts';
import { unsaved } from './lastValues.ts';

export interface AttributeSnapshot {
  readonly type: AttributeType;
  readonly unit: string | null;
  readonly writable: boolean;
  readonly value: AttributeValue | null;
  /** When the value was reported (ms since epoch), or null if never. */
  readonly ts: number | null;
}

export interface DeviceSnapshot {
  readonly id: string;
  readonly name: string;
  readonly protocol: string;
  readonly owner: string;
  readonly manufacturer: string | null;
  readonly model: string | null;
  readonly online: boolean;
  readonly lastSeen: number | null;
  readonly attributes: Record<string, AttributeSnapshot>;
}

/**
 * Every device with its attributes' last values, read from the store (safe while the gateway runs:
 * what it committed since it last saved the last values is read from the history).
 */
export function listDevices(db: Db): DeviceSnapshot[] {
  const devices = db.prepare('SELECT id, name, protocol, owner, manufacturer, model, online, last_seen FROM devices ORDER BY id').all() as Array<{
    id: string;
    name: string;
    protocol: string;
    owner: string;
    manufacturer: string | null;
    model: string | null;
    online: number;
    last_seen: number | null;
  }>;
  const attrs = db
    .prepare(
      'SELECT s.id, s.device_id, s.attribute, s.type, s.unit, s.writable, st.value, st.ts FROM series s LEFT JOIN state st ON st.series_id = s.id ORDER BY s.device_id, s.attribute',
    )
    .all() as Array<{
    id: number;
    device_id: string;
    attribute: string;
    type: AttributeType;
    unit: string | null;
    writable: number;
    value: number | string | null;
    ts: number | null;
  }>;
  const recent = unsaved(db);
  const byDevice = new Map<string, Record<string, AttributeSnapshot>>();
  for (const a of attrs) {
    const record = byDevice.get(a.device_id) ?? {};
    const newer = recent.values.get(a.id);
    const last = newer && (a.ts === null || newer.ts >= a.ts) ? newer : a.value === null ? null : { value: a.value, ts: a.ts as number };
    record[a.attribute] = { type: a.type, unit: a.unit, writable: a.writable === 1, value: last ? fromStored(a.type, last.value) : null, ts: last?.ts ?? null };
    byDevice.set(a.device_id, record);
  }
  return devices.map((d) => ({
    id: d.id,
    name: d.name,
    protocol: d.protocol,
    owner: d.owner,
    manufacturer: d.manufacturer,
    model: d.model,
    online: d.online === 1,
    lastSeen: Math.max(d.last_seen ?? 0, recent.seen.get(d.id) ?? 0) || null,
    attributes: byDevice.get(d.id) ?? {},
  }));
}
