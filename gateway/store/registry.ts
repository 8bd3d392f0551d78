import type { AttributeSpec, DeviceDescription } from '../../drivers/types.ts';
import type { Db } from './db.ts';
import type { WriteRunner } from './walSync.ts';

/** A registered device: its description plus the series id of each attribute. */
export interface RegisteredDevice extends DeviceDescription {
  readonly seriesIds: Readonly<Record<string, number>>;
}

interface DeviceRow {
  id: string;
  name: string;
  protocol: DeviceDescription['protocol'];
  owner: string;
  manufacturer: string | null;
  model: string | null;
  sw_version: string | null;
}

interface SeriesRow {
  id: number;
  device_id: string;
  attribute: string;
  type: AttributeSpec['type'];
  unit: string | null;
  device_class: string | null;
  state_class: string | null;
  writable: number;
  min: number | null;
  max: number | null;
  step: number | null;
  extra: string | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/**
 * The device registry: every device and attribute Trellis knows, kept in memory for the hot path and
 * written through to SQLite (devices and attributes change rarely, so each change is its own small
 * transaction).
 */
export class DeviceRegistry {
  readonly #db: Db;
  readonly #devices = new Map<string, RegisteredDevice>();

  /** How registrations are written (the gateway: fsynced off the event loop, see offLoopWrites). */
  readonly #write: WriteRunner;

  readonly #now: () => number;

  /** `now`: the gateway's clock, for created/updated times. */
  constructor(db: Db, write: WriteRunner = (w) => w(), now: () => number = Date.now) {
    this.#db = db;
    this.#write = write;
    this.#now = now;
  }

  /** Loads every device from the store. */
  /** At start: nobody is connected yet. */
  resetOnline(): void {
    this.#db.prepare('UPDATE devices SET online = 0 WHERE online = 1').run();
  }

  load(): void {
    this.#devices.clear();
    const devices = this.#db.prepare('SELECT * FROM devices').all() as DeviceRow[];
    const series = this.#db.prepare('SELECT * FROM series').all() as SeriesRow[];
    const byDevice = new Map<string, SeriesRow[]>();
    for (const s of series) {
      const list = byDevice.get(s.device_id) ?? [];
      list.push(s);
      byDevice.set(s.device_id, list);
    }
    for (const d of devices) {
      const attributes: Record<string, AttributeSpec> = {};
      const seriesIds: Record<string, number> = {};
      for (const s of byDevice.get(d.id) ?? []) {
        attributes[s.attribute] = {
          type: s.type,
          unit: opt(s.unit),
          deviceClass: opt(s.device_class),
          stateClass: opt(s.state_class),
          writable: s.writable === 1,
          min: opt(s.min),
          max: opt(s.max),
          step: opt(s.step),
          ...(s.extra ? (JSON.parse(s.extra) as Partial<AttributeSpec>) : {}),
        };
        seriesIds[s.attribute] = s.id;
      }
      this.#devices.set(d.id, {
        id: d.id,
        name: d.name,
        protocol: d.protocol,
        owner: d.owner,
        manufacturer: opt(d.manufacturer),
        model: opt(d.model),
        swVersion: opt(d.sw_version),
        attributes,
        seriesIds,
      });
    }
  }

  get(id: string): RegisteredDevice | undefined {
    return this.#devices.get(id);
  }

  all(): IterableIterator<RegisteredDevice> {
    return this.#devices.values();
  }

  get size(): number {
    return this.#devices.size;
  }

  /**
   * Adds or updates a device. Attributes are merged: an attribute once seen keeps its series (and
   * history) even if a later description omits it. Returns the registered device.
   */
  upsert(desc: DeviceDescription): RegisteredDevice {
    const existing = this.#devices.get(desc.id);
    if (existing && sameDescription(existing, desc)) return existing;
    const now = this.#now();
    const attributes: Record<string, AttributeSpec> = { ...(existing?.attributes ?? {}), ...desc.attributes };
    const seriesIds: Record<string, number> = { ...(existing?.seriesIds ?? {}) };
    this.#write(
      this.#db.transaction(() => {
        this.#db
          .prepare(
            `INSERT INTO devices (id, name, protocol, owner, manufacturer, model, sw_version, created_at, updated_at)
           VALUES (@id, @name, @protocol, @owner, @manufacturer, @model, @swVersion, @now, @now)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner = excluded.owner,
             manufacturer = excluded.manufacturer, model = excluded.model, sw_version = excluded.sw_version,
             updated_at = excluded.updated_at`,
          )
          .run({
            id: desc.id,
            name: desc.name,
            protocol: desc.protocol,
            owner: desc.owner,
            manufacturer: desc.manufacturer ?? null,
            model: desc.model ?? null,
            swVersion: desc.swVersion ?? null,
            now,
          });
        const upsertSeries = this.#db.prepare(
          `INSERT INTO series (device_id, attribute, type, unit, device_class, state_class, writable, min, max, step, extra)
         VALUES (@deviceId, @attribute, @type, @unit, @deviceClass, @stateClass, @writable, @min, @max, @step, @extra)
         ON CONFLICT (device_id, attribute) DO UPDATE SET type = excluded.type, unit = excluded.unit,
           device_class = excluded.device_class, state_class = excluded.state_class, writable = excluded.writable,
           min = excluded.min, max = excluded.max, step = excluded.step, extra = excluded.extra
         RETURNING id`,
        );
        for (const [attribute, spec] of Object.entries(desc.attributes)) {
          const row = upsertSeries.get({
            deviceId: desc.id,
            attribute,
            type: spec.type,
            unit: spec.unit ?? null,
            deviceClass: spec.deviceClass ?? null,
            stateClass: spec.stateClass ?? null,
            writable: spec.writable ? 1 : 0,
            min: spec.min ?? null,
            max: spec.max ?? null,
            step: spec.step ?? null,
            extra: extraOf(spec),
          }) as { id: number };
          seriesIds[attribute] = row.id;
        }
      }),
    );
    const registered: RegisteredDevice = { ...desc, attributes, seriesIds };
    this.#devices.set(desc.id, registered);
    return registered;
  }
}

function sameDescription(a: RegisteredDevice, b: DeviceDescription): boolean {
  if (a.name !== b.name || a.owner !== b.owner || a.manufacturer !== b.manufacturer || a.model !== b.model || a.swVersion !== b.swVersion) {
    return false;
  }
  for (const [name, spec] of Object.entries(b.attributes)) {
    const old = a.attributes[name];
    if (!old || !sameSpec(old, spec)) return false;
  }
  return true;
}

const SPEC_KEYS = ['type', 'unit', 'deviceClass', 'stateClass', 'writable', 'min', 'max', 'step'] as const;

function sameSpec(a: AttributeSpec, b: AttributeSpec): boolean {
  return SPEC_KEYS.every((k) => a[k] === b[k]) && extraOf(a) === extraOf(b);
}

/** The spec's parts without a column of their own (`series.extra`), as JSON; null when it has none. */
function extraOf(spec: AttributeSpec): string | null {
  const extra: Partial<AttributeSpec> = {};
  if (spec.name !== undefined) Object.assign(extra, { name: spec.name });
  if (spec.options !== undefined) Object.assign(extra, { options: spec.options });
  if (spec.commands !== undefined) Object.assign(extra, { commands: spec.commands });
  if (spec.momentary) Object.assign(extra, { momentary: true });
  return Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
}
