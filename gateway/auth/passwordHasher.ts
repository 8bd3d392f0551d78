import type { Options } from '@node-rs/argon2';

type Argon2 = typeof import('@node-rs/argon2');
let loaded: Promise<Argon2> | undefined;
/** The native argon2 addon, loaded at the first hash or check: not on the path to serving (the cold start). */
const argon2 = () => (loaded ??= import('@node-rs/argon2'));

/** Too many verifications are already waiting: the caller refuses the attempt ("try later"). */
export class HasherBusyError extends Error {
  constructor() {
    super('too many sign-ins are being checked; try again shortly');
    this.name = 'HasherBusyError';
  }
}

export interface GateOptions {
  /** argon2 computations at once */
  readonly concurrency: number;
  /** waiting at most; more are refused at once */
  readonly maxQueue: number;
  /** a check that waited longer than this is refused when its turn comes (its client gave up long ago) */
  readonly maxWaitMs: number;
}

/**
 * At most `concurrency` argon2 computations at once (default one), the rest in line. @node-rs/argon2
 * runs on libuv's thread pool, the same four threads that fsync the WAL before a QoS 1 PUBACK: one at
 * a time, a flood of wrong passwords takes one of them and one core, and never queues the syncs (or
 * the event loop) behind hundreds of hashes. The line is long enough for a whole fleet reconnecting
 * after a restart (1,000 devices at a few ms each); what waits past `maxWaitMs` is refused.
 */
export class Argon2Gate {
  readonly #o: GateOptions;
  readonly #waiting: Array<{ since: number; go: () => void; refuse: (err: Error) => void }> = [];
  #running = 0;
  refused = 0;
  /** the most that ever ran at once (the security suite checks it) */
  peak = 0;

  constructor(options: Partial<GateOptions> = {}) {
    this.#o = { concurrency: 1, maxQueue: 5_000, maxWaitMs: 10_000, ...options };
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#o.concurrency) {
      if (this.#waiting.length >= this.#o.maxQueue) {
        this.refused++;
        throw new HasherBusyError();
      }
      await new Promise<void>((go, refuse) => this.#waiting.push({ since: Date.now(), go, refuse }));
    } else this.#running++;
    this.peak = Math.max(this.peak, this.#running);
    try {
      return await work();
    } finally {
      this.#next();
    }
  }

  /** Hands the slot to the next waiter that has not waited too long; refuses those that have. */
  #next(): void {
    const now = Date.now();
    for (let w = this.#waiting.shift(); w; w = this.#waiting.shift()) {
      if (now - w.since <= this.#o.maxWaitMs) return w.go();
      this.refused++;
      w.refuse(new HasherBusyError());
    }
    this.#running--;
  }
}

/**
 * argon2id hashing and verification through a shared gate. Verifying against no hash (an unknown user
 * name, a person without a password) checks a dummy hash of the same cost, so the answer takes as long
 * as for a known name: names cannot be found by timing.
 */
export class PasswordHasher {
  readonly #gate: Argon2Gate;
  readonly #options: Options | undefined;
  #dummy: Promise<string> | undefined;

  constructor(gate: Argon2Gate, options?: Options) {
    this.#gate = gate;
    this.#options = options;
  }

  hash(password: string): Promise<string> {
    return this.#gate.run(async () => (await argon2()).hash(password, this.#options));
  }

  async verify(hashed: string | undefined, password: string): Promise<boolean> {
    const target = hashed ?? (await (this.#dummy ??= argon2().then((a) => a.hash('trellis-dummy-password', this.#options))));
    const { verify } = await argon2();
    const ok = await this.#gate.run(() => verify(target, password).catch(() => false));
    return ok && hashed !== undefined;
  }
}
