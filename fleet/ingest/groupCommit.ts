import type { FleetDb } from '../db/fleetDb.ts';
import { type Incoming, storeBatch } from './batch.ts';
import type { Outcome } from './records.ts';

export interface GroupCommitOptions {
  readonly db: FleetDb;
  readonly now?: () => number;
  /** at most this many messages per transaction (default 2,000) */
  readonly maxBatch?: number;
  /** a gateway's `last_seen` is written at most this often by this process (default 10 s) */
  readonly seenEveryMs?: number;
}

interface Waiting {
  readonly message: Incoming;
  readonly resolve: (o: Outcome) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Group commit for ingest: a message that arrives while no commit runs is committed at once (with
 * whatever else the same socket read brought: the batch closes on the next turn of the event loop);
 * those that arrive while a commit runs share the next one. `add` resolves when the message's
 * transaction has committed, which is when its PUBACK may go out, and rejects when it failed.
 *
 * A batch that fails is tried again one message per transaction, so one record the database
 * refuses (after it passed validation) fails alone instead of taking its batch with it on every
 * redelivery.
 */
export class GroupCommit {
  readonly #o: GroupCommitOptions;
  #queue: Waiting[] = [];
  #draining = false;
  readonly #seen = new Map<string, number>();
  readonly #roomWaiters: Array<() => void> = [];
  /** transactions committed, and the messages in them (for the bench's batch size) */
  commits = 0;
  committed = 0;

  constructor(options: GroupCommitOptions) {
    this.#o = options;
  }

  /** messages waiting for their commit, and the ones being committed */
  get pending(): number {
    return this.#queue.length + this.#inBatch;
  }
  #inBatch = 0;

  add(message: Incoming): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ message, resolve, reject });
      if (this.#draining) return;
      this.#draining = true;
      void this.#drain();
    });
  }

  /** Resolves once fewer than `limit` messages are pending: a reader holds the next packet until then. */
  room(limit: number): Promise<void> {
    if (this.pending < limit) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(() => (this.pending < limit ? resolve() : this.room(limit).then(resolve))));
  }

  async #drain(): Promise<void> {
    try {
      await new Promise((r) => setImmediate(r));
      const max = this.#o.maxBatch ?? 2000;
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, max);
        this.#inBatch = batch.length;
        await this.#commit(batch);
        this.#inBatch = 0;
        for (const wake of this.#roomWaiters.splice(0)) wake();
      }
    } finally {
      // in the same synchronous step as the empty queue was seen: a message added after this starts a new drain
      this.#draining = false;
    }
  }

  async #commit(batch: Waiting[]): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    const every = this.#o.seenEveryMs ?? 10_000;
    const recentlySeen = (g: string) => now - (this.#seen.get(g) ?? Number.NEGATIVE_INFINITY) < every;
    try {
      const { outcomes, seen } = await this.#o.db.transaction((tx) =>
        storeBatch(
          tx,
          batch.map((w) => w.message),
          now,
          recentlySeen,
        ),
      );
      for (const g of seen) this.#seen.set(g, now);
      this.commits++;
      this.committed += batch.length;
      for (const [i, w] of batch.entries()) w.resolve(outcomes[i] as Outcome);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err as Error);
        return;
      }
      for (const w of batch) await this.#commit([w]);
    }
  }
}
