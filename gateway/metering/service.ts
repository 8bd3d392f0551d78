import type { DeviceEvent } from '../../drivers/types.ts';
import type { Clock } from '../clock.ts';
import type { GatewayBus } from '../core/events.ts';
import type { Logger } from '../log.ts';
import { PersistentCounters } from '../store/counters.ts';
import type { Db } from '../store/db.ts';
import type { CommitParticipant, HistoryWriter } from '../store/historyWriter.ts';
import type { DeviceRegistry, RegisteredDevice } from '../store/registry.ts';
import type { UsageBucket } from './bucket.ts';
import { hourEnd } from './hours.ts';
import { Meter, type MeterSnapshot } from './meter.ts';
import { replayEvents } from './replay.ts';
import { meterRole, type MeteredAttribute, type RoleOverride } from './roles.ts';

export interface StoredBucket extends UsageBucket {
  readonly seq: number;
}

/**
 * Where closed buckets are queued inside the transaction that stores them (the cloud outbox), so a
 * bucket is sent if and only if it is stored.
 */
export interface UsageQueue {
  queueUsage(buckets: readonly StoredBucket[]): void;
}

export interface MeteringDeps {
  readonly db: Db;
  readonly registry: DeviceRegistry;
  readonly bus: GatewayBus;
  readonly writer: HistoryWriter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly timeZone: string;
  /** `device.attribute` -> role, overriding what is inferred from the attribute's spec */
  readonly overrides: Readonly<Record<string, RoleOverride>>;
  /** the cloud outbox, when cloud sync is configured */
  readonly usageQueue?: UsageQueue | undefined;
}

const ALIVE_EVERY_MS = 60_000;
const ALIVE = 'meter.aliveAt';

/**
 * Runs the meter on committed events. It sees each batch inside the history writer's transaction, so
 * its checkpoint (meter state + the last reading and event row it folded) always matches the stored
 * readings: after a crash it restores the checkpoint and replays the rows after it, and every closed
 * bucket is stored exactly once, in the same transaction as the readings that closed it.
 */
export class MeteringService implements CommitParticipant {
  readonly name = 'metering';
  readonly #deps: MeteringDeps;
  /** buckets stored in the transaction under way, announced on the bus once it commits */
  #pending: StoredBucket[] = [];
  readonly #counters: PersistentCounters;
  #meter: Meter | undefined;
  #cancelClose: (() => void) | undefined;
  #cancelAlive: (() => void) | undefined;
  #leave: (() => void) | undefined;
  #errors = 0;
  readonly #saveCheckpoint: (snapshot: string, at: number) => void;
  readonly #insertBucket: (deviceId: string, start: number, end: number, data: string) => { seq: number } | undefined;

  constructor(deps: MeteringDeps) {
    this.#deps = deps;
    this.#counters = new PersistentCounters(deps.db);
    const save = deps.db.prepare<[string, number]>(
      `INSERT INTO meter_checkpoint (id, readings_rowid, events_rowid, state, saved_at)
       VALUES (1, (SELECT coalesce(max(rowid), 0) FROM readings), (SELECT coalesce(max(id), 0) FROM device_events), ?, ?)
       ON CONFLICT (id) DO UPDATE SET readings_rowid = excluded.readings_rowid, events_rowid = excluded.events_rowid, state = excluded.state, saved_at = excluded.saved_at`,
    );
    this.#saveCheckpoint = (snapshot, at) => save.run(snapshot, at);
    const insert = deps.db.prepare<[string, number, number, string], { seq: number }>(
      'INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?) ON CONFLICT (device_id, start) DO NOTHING RETURNING seq',
    );
    this.#insertBucket = (deviceId, start, end, data) => insert.get(deviceId, start, end, data);
  }

  /** Restores the checkpoint, replays what came after it, closes hours that ended meanwhile. */
  start(): void {
    const { db, clock, registry, bus, writer } = this.#deps;
    const now = clock.now();
    const row = db.prepare('SELECT readings_rowid, events_rowid, state FROM meter_checkpoint WHERE id = 1').get() as
      | { readings_rowid: number; events_rowid: number; state: string }
      | undefined;
    const meter = new Meter(this.#deps.timeZone, now, row ? (JSON.parse(row.state) as MeterSnapshot) : undefined);
    this.#meter = meter;
    for (const device of registry.all()) this.#track(device);
    db.transaction(() => {
      let lastTs = 0;
      const closed: UsageBucket[] = [];
      if (row) {
        for (const e of replayEvents(db, registry, row.readings_rowid, row.events_rowid)) {
          closed.push(...meter.add(e));
          lastTs = Math.max(lastTs, e.ts);
        }
      }
      // The gateway was not running between its last sign of life and now: a gap for every device.
      meter.allOffline(Math.max(lastTs, this.#counters.get(ALIVE)), 'gateway');
      closed.push(...meter.closeUntil(now));
      this.#store(closed, now);
      this.#counters.set(ALIVE, now);
    })();
    this.committed();
    this.#leave = writer.join(this);
    bus.on(this, 'device', (d) => this.#track(d));
    this.#scheduleClose();
    this.#scheduleAlive();
  }

  stop(): void {
    this.#leave?.();
    this.#deps.bus.off(this);
    this.#cancelClose?.();
    this.#cancelAlive?.();
    this.#leave = this.#cancelClose = this.#cancelAlive = undefined;
  }

  /** The writer's transaction committed: tell the bus about the buckets it stored. */
  committed(): void {
    if (this.#pending.length === 0) return;
    const stored = this.#pending;
    this.#pending = [];
    this.#deps.bus.emit('buckets', stored);
  }

  rolledBack(): void {
    this.#pending = [];
  }

  /** Errors folding or storing (logged; the readings themselves are committed regardless). */
  get errors(): number {
    return this.#errors;
  }

  get openStart(): number | undefined {
    return this.#meter?.openStart;
  }

  #track(device: RegisteredDevice): void {
    const attrs: Record<string, MeteredAttribute & { unit?: string | undefined }> = {};
    for (const [name, spec] of Object.entries(device.attributes)) {
      const role = meterRole(name, spec, this.#deps.overrides[`${device.id}.${name}`]);
      if (role) attrs[name] = { ...role, unit: spec.unit };
    }
    if (Object.keys(attrs).length > 0) this.#meter?.track(device.id, attrs);
  }

  /** Inside the writer's transaction. */
  fold(events: readonly DeviceEvent[]): void {
    const meter = this.#meter;
    if (!meter) return;
    try {
      let closed: UsageBucket[] | undefined;
      for (const e of events) {
        if (e.kind === 'reading' && !meter.isTracked(e.deviceId, e.attribute)) continue;
        const c = meter.add(e);
        if (c.length > 0) (closed ??= []).push(...c);
      }
      if (closed) {
        this.#store(closed, this.#deps.clock.now());
        this.#scheduleClose();
      }
    } catch (err) {
      this.#errors++;
      this.#deps.log.error({ err }, 'metering failed');
    }
  }

  /** Hours close when an event of a later hour arrives, or here, just after the hour ends. */
  #scheduleClose(): void {
    const meter = this.#meter;
    if (!meter) return;
    this.#cancelClose?.();
    const due = hourEnd(meter.openStart) + 1000 - this.#deps.clock.now();
    this.#cancelClose = this.#deps.clock.setTimer(due, () => {
      this.#deps.writer.flush(); // pending events first: they belong before the close
      try {
        this.#deps.db.transaction(() => this.#store(meter.closeUntil(this.#deps.clock.now()), this.#deps.clock.now()))();
        this.committed();
      } catch (err) {
        this.rolledBack();
        this.#errors++;
        this.#deps.log.error({ err }, 'closing usage buckets failed');
      }
      this.#scheduleClose();
    });
  }

  #scheduleAlive(): void {
    this.#cancelAlive = this.#deps.clock.setTimer(ALIVE_EVERY_MS, () => {
      this.#counters.set(ALIVE, this.#deps.clock.now());
      this.#scheduleAlive();
    });
  }

  /** Stores closed buckets and the checkpoint; must run inside a transaction. */
  #store(closed: readonly UsageBucket[], now: number): void {
    const stored: StoredBucket[] = [];
    for (const b of closed) {
      const row = this.#insertBucket(b.deviceId, b.start, b.end, JSON.stringify(b));
      if (row) stored.push({ ...b, seq: row.seq }); // an existing bucket is never rewritten
    }
    const meter = this.#meter;
    if (meter) this.#saveCheckpoint(JSON.stringify(meter.snapshot()), now);
    if (stored.length > 0) {
      this.#deps.usageQueue?.queueUsage(stored);
      for (const b of stored) this.#pending.push(b);
    }
  }
}
