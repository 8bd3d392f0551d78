import { hash, verify, type Options } from '@node-rs/argon2';

/** Too many verifications are already waiting: the caller refuses the attempt ("try later"). */
export class HasherBusyError extends Error {
  constructor() {
    super('too many sign-ins are being checked; try again shortly');
    this.name = 'HasherBusyError';
  }
}

/**
 * At most `concurrency` argon2 computations at once, and at most `maxQueue` waiting; more are refused
 * at once. @node-rs/argon2 runs on libuv's thread pool, the same pool that fsyncs the WAL before a QoS 1
 * PUBACK: with one at a time, a flood of wrong passwords takes one pool thread and leaves the others to
 * the disk, instead of queueing every sync behind hundreds of hashes.
 */
export class Argon2Gate {
  readonly #concurrency: number;
  readonly #maxQueue: number;
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  refused = 0;

  constructor(concurrency = 1, maxQueue = 64) {
    this.#concurrency = concurrency;
    this.#maxQueue = maxQueue;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueue) {
        this.refused++;
        throw new HasherBusyError();
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.#running--;
    }
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
    return this.#gate.run(() => hash(password, this.#options));
  }

  async verify(hashed: string | undefined, password: string): Promise<boolean> {
    const target = hashed ?? (await (this.#dummy ??= hash('trellis-dummy-password', this.#options)));
    const ok = await this.#gate.run(() => verify(target, password).catch(() => false));
    return ok && hashed !== undefined;
  }
}
