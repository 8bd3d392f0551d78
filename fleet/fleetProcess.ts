import type { FleetDb } from './db/fleetDb.ts';
import { migrate } from './db/migrations.ts';
import { type IngestOptions, IngestWorker } from './ingest/worker.ts';
import { checkOffline } from './jobs/offline.ts';

export interface FleetProcessOptions {
  readonly db: FleetDb;
  readonly ingest: Omit<IngestOptions, 'db'>;
  /** a gateway silent for this long is offline (its health comes every 60 s by default) */
  readonly offlineAfterMs: number;
  /** how often this process offers to run the periodic checks (one process across the fleet does them) */
  readonly checkEveryMs: number;
  readonly now?: () => number;
  /** a periodic check that failed (it runs again at the next tick) */
  readonly onCheckFailure?: (err: Error) => void;
}

/**
 * One stateless fleet process: migrates the database (once across processes), ingests its share of
 * the provider's streams, and offers to run the periodic checks on a timer; the checks' own locks
 * make exactly one process do each round. Start as many as the load needs.
 */
export class FleetProcess {
  readonly #o: FleetProcessOptions;
  readonly ingest: IngestWorker;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<unknown> | undefined;

  constructor(options: FleetProcessOptions) {
    this.#o = options;
    this.ingest = new IngestWorker({ ...options.ingest, db: options.db });
  }

  async start(): Promise<void> {
    await migrate(this.#o.db);
    await this.ingest.start();
    this.#timer = setInterval(() => {
      this.#checking ??= checkOffline(this.#o.db, (this.#o.now ?? Date.now)(), this.#o.offlineAfterMs)
        .catch((err: Error) => this.#o.onCheckFailure?.(err))
        .finally(() => {
          this.#checking = undefined;
        });
    }, this.#o.checkEveryMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#checking;
    await this.ingest.stop();
  }
}
