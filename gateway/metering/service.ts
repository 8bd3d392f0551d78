import type { DeviceEvent } from '../../drivers/types.ts';
import type { Clock } from '../clock.ts';
import type { GatewayBus } from '../core/events.ts';
import type { Logger } from '../log.ts';
import type { UsageStore } from '../store/usage.ts';
import type { CommitParticipant, HistoryWriter } from '../store/historyWriter.ts';
import type { DeviceRegistry, RegisteredDevice } from '../store/registry.ts';
import type { UsageBucket } from '../../protocol/index.ts';
import { hourEnd } from './hours.ts';
import { Meter, type MeterSnapshot } from './meter.ts';
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
  readonly store: UsageStore;
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
  #meter: Meter | undefined;
  #cancelClose: (() => void) | undefined;
  #cancelAlive: (() => void) | undefined;
  #leave: (() => void) | undefined;
  #errors = 0;

  constructor(deps: MeteringDeps) {
    this.#deps = deps;
  }

  /** Restores the checkpoint, replays what came after it, closes hours that ended meanwhile. */
  start(): void {
    const { store, clock, registry, bus, writer } = this.#deps;
    const now = clock.now();
    const row = store.checkpoint();
    const meter = new Meter(this.#deps.timeZone, now, row ? (JSON.parse(row.state) as MeterSnapshot) : undefined);
    this.#meter = meter;
    for (const device of registry.all()) this.#track(device);
    store.transaction(() => {
      let lastTs = 0;
      const closed: UsageBucket[] = [];
      if (row) {
        for (const e of store.replay(row)) {
          closed.push(...meter.add(e));
          lastTs = Math.max(lastTs, e.ts);
        }
      }
      // The gateway was not running between its last sign of life and now: a gap for every device.
      meter.allOffline(Math.max(lastTs, store.counters.get(ALIVE)), 'gateway');
      closed.push(...meter.closeUntil(now));
      this.#store(closed, now);
      store.counters.set(ALIVE, now);
    });
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
        this.#deps.store.transaction(() => this.#store(meter.closeUntil(this.#deps.clock.now()), this.#deps.clock.now()));
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
      this.#deps.store.counters.set(ALIVE, this.#deps.clock.now());
      this.#scheduleAlive();
    });
  }

  /** Stores closed buckets and the checkpoint; must run inside a transaction. */
  #store(closed: readonly UsageBucket[], now: number): void {
    const stored: StoredBucket[] = [];
    for (const b of closed) {
      const seq = this.#deps.store.insertBucket(b.deviceId, b.start, b.end, JSON.stringify(b));
      if (seq !== undefined) stored.push({ ...b, seq }); // an existing bucket is never rewritten
    }
    const meter = this.#meter;
    if (meter) this.#deps.store.saveCheckpoint(JSON.stringify(meter.snapshot()), now);
    if (stored.length > 0) {
      this.#deps.usageQueue?.queueUsage(stored);
      for (const b of stored) this.#pending.push(b);
    }
  }
}
