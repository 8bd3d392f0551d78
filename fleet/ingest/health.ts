/** What `/api/health` says of this process's ingest while its commits fail. */
export interface IngestFailing {
  /** when the first of the failures in a row happened, ms */
  readonly since: number;
  /** commits refused since then */
  readonly commits: number;
  /** the database's SQLSTATE for the last one, when it gave one (53100: disk full; 53400: a quota) */
  readonly sqlState: string | null;
}

/**
 * Whether this process's ingest can commit: failing from its first refused commit until one commits
 * again. The database cannot say it is full in a table when it is full, so this lives in memory and
 * `/api/health` (open to monitors) reports it: the records wait unacknowledged on the broker meanwhile.
 * Only the SQLSTATE is kept, never the error's text (it can quote a record).
 */
export class IngestHealth {
  #failing: IngestFailing | undefined;

  constructor(readonly onChange: (failing: IngestFailing | undefined) => void = () => undefined) {}

  failed(err: Error, now: number): void {
    const code = (err as { code?: unknown }).code;
    const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
    const first = this.#failing === undefined;
    this.#failing = { since: this.#failing?.since ?? now, commits: (this.#failing?.commits ?? 0) + 1, sqlState };
    if (first) this.onChange(this.failing);
  }

  committed(): void {
    if (this.#failing === undefined) return;
    this.#failing = undefined;
    this.onChange(undefined);
  }

  get failing(): IngestFailing | undefined {
    return this.#failing && { ...this.#failing };
  }
}
