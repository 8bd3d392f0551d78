import { close, closeSync, existsSync, fdatasync, fdatasyncSync, open, openSync } from 'node:fs';

type Done = (err?: Error) => void;
/** Makes what was written to `file` so far durable; calls back when it is (or failed). */
export type FileSync = (file: string, done: Done) => void;

/** fdatasync on libuv's thread pool: the event loop goes on while the disk (an SD card: 5-50 ms) works. */
export const fileSync: FileSync = (file, done) =>
  open(file, 'r', (err, fd) => {
    if (err) return done(err);
    fdatasync(fd, (syncErr) => close(fd, () => done(syncErr ?? undefined)));
  });

/**
 * fsyncs a SQLite WAL off the event loop. The history writer commits with `synchronous = NORMAL`
 * (frames written to the WAL, no fsync) and asks for a sync after each commit; a QoS 1 PUBACK waits
 * for the sync that started after its commit, so an acknowledged reading is on disk as with `FULL`,
 * but no commit holds the event loop (and the rules) while the disk works. Requests that arrive while
 * a sync runs share the next one.
 */
export class WalSync {
  readonly #file: string;
  readonly #sync: FileSync;
  #queued: Done[] = [];
  #requested = false;
  #running = false;
  #syncs = 0;
  #maxMs = 0;

  constructor(file: string, sync: FileSync = fileSync) {
    this.#file = file;
    this.#sync = sync;
  }

  /** Syncs everything written before this call; then calls `done`. */
  request(done?: Done): void {
    if (done) this.#queued.push(done);
    this.#requested = true;
    if (!this.#running) this.#start();
  }

  /** Syncs now, blocking, and calls whoever waits (on stop). */
  syncNow(): void {
    const waiting = this.#queued;
    this.#queued = [];
    this.#requested = false;
    let error: Error | undefined;
    try {
      if (existsSync(this.#file)) {
        const fd = openSync(this.#file, 'r');
        try {
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    } catch (err) {
      error = err as Error;
    }
    for (const d of waiting) d(error);
  }

  stats(): { syncs: number; maxMs: number } {
    return { syncs: this.#syncs, maxMs: this.#maxMs };
  }

  #start(): void {
    const batch = this.#queued;
    this.#queued = [];
    this.#requested = false;
    this.#running = true;
    const started = performance.now();
    this.#sync(this.#file, (err) => {
      this.#running = false;
      this.#syncs++;
      this.#maxMs = Math.max(this.#maxMs, performance.now() - started);
      for (const d of batch) d(err);
      if (this.#requested) this.#start();
    });
  }
}

/** Runs a write so that its fsync happens off the event loop (or as the connection is set up, without a WalSync). */
export type WriteRunner = <T>(write: () => T) => T;

/**
 * A WriteRunner for writes whose durability nobody waits on (a device's registration, its retained
 * config): they run with `synchronous = NORMAL` and a WAL sync is requested after them, so 1,000 devices
 * announcing themselves at once cost 1,000 commits without 1,000 fsyncs on the event loop. The
 * connection is back to FULL afterwards. Without a WalSync, the write runs as it is.
 */
export function offLoopWrites(
  db: { prepare(sql: string): { run(): unknown }; readonly inTransaction: boolean },
  walSync: WalSync | undefined,
  onError: (err: Error) => void = () => {},
): WriteRunner {
  if (!walSync) return (write) => write();
  const normal = db.prepare('PRAGMA synchronous = NORMAL');
  const full = db.prepare('PRAGMA synchronous = FULL');
  return (write) => {
    if (db.inTransaction) return write(); // SQLite refuses to change the safety level inside one: it commits with it
    normal.run();
    try {
      return write();
    } finally {
      full.run();
      walSync.request((err) => err && onError(err));
    }
  };
}
