import type { DeviceEvent } from '../../drivers/types.ts';
import type { GatewayBus } from '../core/events.ts';
import { AckBatching, type AckBatchingOptions } from './ackBatching.ts';
import type { Db } from './db.ts';
import { LastValues, type LastValuesDelta } from './lastValues.ts';
import type { DeviceRegistry } from './registry.ts';
import type { WalSync } from './walSync.ts';

export interface HistoryWriterOptions {
  /** Commit at least this often while readings nobody waits on are pending. */
  readonly flushMs: number;
  /** the wear guard: readings per commit worth waiting for when they arrive fast (see AckBatching); absent: never wait */
  readonly ackBatch?: AckBatchingOptions | undefined;
  /** Commit as soon as this many events wait. */
  readonly batchSize: number;
  /** Each attribute's last value and each device's last-seen time are written at most this often (see LastValues). */
  readonly lastValuesEveryMs: number;
  /**
   * With `store.synchronous: full`: commits run with `synchronous = NORMAL` and this fsyncs the WAL
   * after them, off the event loop; waiters are called after the sync. Absent: waiters are called at
   * the commit (the connection's own synchronous setting applies).
   */
  readonly walSync?: WalSync | undefined;
  /** where a failed commit nobody waited on is announced (`storeError`) */
  readonly bus?: GatewayBus | undefined;
}

/**
 * The one service that works inside the writer's transaction (metering: a usage bucket must match the
 * readings that closed it, so its checkpoint commits or rolls back with them). Joined once with
 * `HistoryWriter.join`; everything else hears about committed data after the commit.
 */
export interface CommitParticipant {
  /** Inside the transaction, after the batch's rows are inserted. Must not throw. */
  fold(events: readonly DeviceEvent[]): void;
  /** The transaction committed: announce what `fold` stored. */
  committed(): void;
  /** The transaction rolled back: forget what `fold` stored. */
  rolledBack(): void;
}

export interface HistoryWriterStats {
  readonly rowsWritten: number;
  readonly commits: number;
  readonly failedCommits: number;
  readonly pending: number;
  /** Duration of the last commit in ms (how long it held the event loop). */
  readonly lastCommitMs: number;
  readonly maxCommitMs: number;
}

type Waiter = (err?: Error) => void;

const ROWS_PER_INSERT = 64;
/** events per commit when the flush timer commits a backlog nobody waits on (~0.5 ms each) */
const SLICE = 256;
/** a waiter older than this with no sync of its own running is committed from `append` itself (see above) */
const STARVED_MS = 5;

/**
 * Batches device events into SQLite transactions. Events without a waiter are committed at least
 * every `flushMs`. Events with a waiter (a QoS 1 publish whose PUBACK waits on the commit) are
 * group-committed: when no commit of theirs is being synced, they are committed at the end of the
 * current I/O turn (with everything else that arrived in it) and the WAL sync starts at once; those
 * that arrive while that sync runs wait for it to finish and then share the next commit and sync. So
 * a lone QoS 1 reading waits for one commit and one fsync, and under load the disk's own sync time
 * sets the batch size (an SD card's 5-50 ms fsync gathers more per commit than a fast disk's 0.5 ms).
 * A waiter is called only after its events are committed (and, with a WalSync, synced).
 *
 * Timers alone cannot bound a batch: under a flood from many sockets, libuv's poll phase keeps
 * handling socket data for seconds and neither timers nor immediates run (measured: 780k-row batches,
 * 700 ms commits). So `append` itself commits synchronously once `batchSize` events wait, the oldest
 * has waited `flushMs`, or a waiter has waited STARVED_MS with no sync running; the timer and
 * immediate only cover quiet periods.
 */
export class HistoryWriter {
  readonly #db: Db;
  readonly #registry: DeviceRegistry;
  readonly #options: HistoryWriterOptions;
  #events: DeviceEvent[] = [];
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** performance.now() when the oldest pending event arrived. */
  #oldestAt = 0;
  /** performance.now() when the oldest pending waiter arrived. */
  #oldestWaiterAt = 0;
  /** commits with waiters being synced: later waiters wait for them, then share the next commit */
  #syncing = 0;
  readonly #batching: AckBatching | undefined;
  /** a commit for waiters held by the wear guard */
  #holdTimer: NodeJS.Timeout | undefined;
  /** performance.now() when the next commit for waiters is due (starvation is measured from it) */
  #ackDueAt = 0;
  #closed = false;
  #participant: CommitParticipant | undefined;
  #stats = { rowsWritten: 0, commits: 0, failedCommits: 0, lastCommitMs: 0, maxCommitMs: 0 };
  readonly #commit: (events: readonly DeviceEvent[]) => number;
  readonly #lastValues: LastValues;
  readonly #setSynchronous: { readonly normal: { run(): unknown }; readonly full: { run(): unknown } };
  /** performance.now() of the last write of the last values */
  #lastValuesAt = performance.now();
  #writeLastValues = false;
  /** what the batch being committed changed in the last values */
  #batch: LastValuesDelta | undefined;

  constructor(db: Db, registry: DeviceRegistry, options: HistoryWriterOptions) {
    this.#db = db;
    this.#registry = registry;
    this.#options = options;
    this.#batching = options.ackBatch && options.ackBatch.minBatch > 1 ? new AckBatching(options.ackBatch) : undefined;
    this.#lastValues = new LastValues(db);
    this.#commit = this.#prepareCommit();
    this.#setSynchronous = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') };
  }

  /** Folds what a crash kept from the last values into the store; call once before serving. */
  catchUp(): number {
    return this.#lastValues.catchUp();
  }

  /** Commits what is pending and writes the last values now (before erasing history, and on close). */
  saveLastValues(): void {
    this.flush();
    this.#lastValues.save();
    this.#lastValuesAt = performance.now();
  }

  append(events: readonly DeviceEvent[], onDurable?: Waiter): void {
    if (this.#closed) {
      onDurable?.(new Error('history writer is closed'));
      return;
    }
    const now = performance.now();
    if (this.#events.length === 0 && this.#waiters.length === 0) this.#oldestAt = now;
    for (const e of events) this.#events.push(e);
    if (onDurable) {
      if (this.#waiters.length === 0) this.#oldestWaiterAt = now;
      this.#waiters.push(onDurable);
      this.#batching?.arrived(now);
    }
    if (this.#events.length >= this.#options.batchSize || now - this.#oldestAt >= this.#options.flushMs) {
      this.flush();
      return;
    }
    if (this.#waiters.length > 0) {
      if (this.#syncing > 0) return; // the sync's end commits them
      if (this.#immediate || this.#holdTimer) {
        if (now - this.#ackDueAt >= STARVED_MS)
          this.flush(); // starved by a flood (see above)
        else if (this.#holdTimer && this.#batching?.full(this.#waiters.length)) this.#commitForWaiters(now);
        return;
      }
      this.#commitForWaiters(now);
    } else {
      this.#timer ??= setTimeout(() => this.#flushSlice(), this.#options.flushMs);
    }
  }

  /** Schedules the commit waiters share: at the end of this turn, or later when the wear guard holds it. */
  #commitForWaiters(now: number): void {
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    const hold = this.#batching?.holdMs(now, this.#waiters.length, this.#oldestWaiterAt) ?? 0; // 0 once the batch is full
    this.#ackDueAt = now + hold;
    if (hold > 0) this.#holdTimer = setTimeout(() => this.flush(), hold);
    else this.#immediate ??= setImmediate(() => this.flush());
  }

  /**
   * The timer's flush: with nobody waiting, at most SLICE events per commit, the rest in the next
   * turns, so that a second's worth of readings never holds the event loop (and the rules behind it)
   * for milliseconds at once.
   */
  #flushSlice(): void {
    if (this.#waiters.length > 0 || this.#events.length <= SLICE) {
      this.flush();
      return;
    }
    this.#timer = undefined;
    this.#commitPending(this.#events.splice(0, SLICE), []);
    this.#oldestAt = performance.now(); // the rest is being committed: append's guard is for starvation
    this.#immediate ??= setImmediate(() => {
      this.#immediate = undefined;
      this.#flushSlice();
    });
  }

  /** Commits everything pending now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    if (this.#holdTimer) clearTimeout(this.#holdTimer);
    this.#timer = undefined;
    this.#immediate = undefined;
    this.#holdTimer = undefined;
    if (this.#events.length === 0 && this.#waiters.length === 0) return;
    const events = this.#events;
    const waiters = this.#waiters;
    this.#events = [];
    this.#waiters = [];
    this.#commitPending(events, waiters);
  }

  #commitPending(events: DeviceEvent[], waiters: Waiter[]): void {
    const started = performance.now();
    let error: Error | undefined;
    this.#writeLastValues = started - this.#lastValuesAt >= this.#options.lastValuesEveryMs;
    const walSync = this.#options.walSync;
    try {
      if (walSync) this.#setSynchronous.normal.run(); // this commit is fsynced off the loop, below
      this.#stats.rowsWritten += this.#commit(events);
      this.#stats.commits++;
      if (this.#writeLastValues) {
        this.#lastValues.saved();
        this.#lastValuesAt = started;
      } else if (this.#batch) this.#lastValues.note(this.#batch);
    } catch (err) {
      error = err as Error;
    } finally {
      this.#batch = undefined;
      if (walSync) this.#setSynchronous.full.run(); // every other writer of this connection stays FULL
    }
    if (error) this.#stats.failedCommits++;
    if (error) this.#participant?.rolledBack();
    else this.#participant?.committed();
    const took = performance.now() - started;
    this.#stats.lastCommitMs = took;
    if (took > this.#stats.maxCommitMs) this.#stats.maxCommitMs = took;
    if (error && waiters.length === 0) this.#failed(error);
    if (walSync && !error) {
      if (waiters.length > 0) this.#syncing++;
      walSync.request((syncError) => {
        if (waiters.length > 0) this.#syncing--;
        for (const w of waiters) w(syncError);
        if (syncError && waiters.length === 0) this.#failed(syncError);
        // the waiters that came during this sync: committed with whatever else arrives in this turn
        if (this.#syncing === 0 && this.#waiters.length > 0 && !this.#closed && !this.#immediate && !this.#holdTimer) this.#commitForWaiters(performance.now());
      });
    } else {
      for (const w of waiters) w(error);
    }
  }

  /**
   * Lets the one CommitParticipant into every commit's transaction; returns the function that lets it
   * out. A second participant is refused (it would silently change what a commit means).
   */
  join(participant: CommitParticipant): () => void {
    if (this.#participant) throw new Error('the history writer already has a commit participant');
    this.#participant = participant;
    return () => {
      if (this.#participant === participant) this.#participant = undefined;
    };
  }

  #failed(err: Error): void {
    this.#options.bus?.emit('storeError', err);
  }

  stats(): HistoryWriterStats {
    return { ...this.#stats, pending: this.#events.length };
  }

  /** Commits what is pending and refuses further events. */
  close(): void {
    try {
      this.saveLastValues();
    } catch (err) {
      this.#failed(err as Error); // nothing is lost: the next start rebuilds them from the history
    }
    this.#options.walSync?.syncNow();
    this.#closed = true;
  }

  #prepareCommit(): (events: readonly DeviceEvent[]) => number {
    const db = this.#db;
    // Readings go in 64 rows per statement execution: per-execution overhead dominated single-row
    // inserts in the profile (18% of the gateway's CPU at saturation).
    const insertOne = db.prepare('INSERT INTO readings (series_id, ts, num, txt) VALUES (?, ?, ?, ?)');
    const insertMany = db.prepare(
      `INSERT INTO readings (series_id, ts, num, txt) VALUES ${Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?, ?)').join(', ')}`,
    );
    const rowValues: Array<number | string | null> = [];
    const pushRow = (seriesId: number, ts: number, num: number | null, txt: string | null) => {
      rowValues.push(seriesId, ts, num, txt);
      if (rowValues.length === ROWS_PER_INSERT * 4) {
        insertMany.run(rowValues);
        rowValues.length = 0;
      }
    };
    const flushRows = () => {
      for (let i = 0; i < rowValues.length; i += 4) insertOne.run(rowValues[i], rowValues[i + 1], rowValues[i + 2], rowValues[i + 3]);
      rowValues.length = 0;
    };
    const setOnline = db.prepare('UPDATE devices SET online = ?, last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?');
    const insertEvent = db.prepare('INSERT INTO device_events (device_id, ts, kind, data) VALUES (?, ?, ?, ?)');

    return db.transaction((events: readonly DeviceEvent[]): number => {
      let rows = 0;
      const batch: LastValuesDelta = { values: new Map(), seen: new Map() };
      const { values: latest, seen } = batch;
      for (const e of events) {
        if (e.kind === 'reading') {
          const seriesId = this.#registry.get(e.deviceId)?.seriesIds[e.attribute];
          if (seriesId === undefined) continue; // the hub only passes registered attributes
          const v = e.value;
          if (typeof v === 'string') pushRow(seriesId, e.ts, null, v);
          else pushRow(seriesId, e.ts, typeof v === 'boolean' ? Number(v) : v, null);
          if ((latest.get(seriesId)?.ts ?? Number.NEGATIVE_INFINITY) <= e.ts) latest.set(seriesId, { value: typeof v === 'boolean' ? Number(v) : v, ts: e.ts });
          seen.set(e.deviceId, Math.max(seen.get(e.deviceId) ?? 0, e.ts));
          rows++;
        } else if (e.kind === 'availability') {
          setOnline.run(e.online ? 1 : 0, e.ts, e.deviceId);
          insertEvent.run(e.deviceId, e.ts, e.kind, JSON.stringify({ online: e.online }));
          rows++;
        } else {
          const { deviceId: _d, ts: _t, kind: _k, ...data } = e;
          insertEvent.run(e.deviceId, e.ts, e.kind, JSON.stringify(data));
          seen.set(e.deviceId, Math.max(seen.get(e.deviceId) ?? 0, e.ts));
          rows++;
        }
      }
      flushRows();
      if (this.#writeLastValues) this.#lastValues.write(batch);
      else this.#batch = batch; // noted once committed
      this.#participant?.fold(events);
      return rows;
    });
  }
}
