import type { CommandResultData } from '../../protocol/index.ts';
import type { Db } from './db.ts';

export type CommandStatus = CommandResultData['status'];

/** The `command_log` table: every remote command and its answer, once per (provider, request id). */
export class CommandLog {
  readonly #find;
  readonly #log;

  constructor(db: Db) {
    this.#find = db.prepare<[string, string], { status: CommandStatus; reason: string | null }>(
      'SELECT status, reason FROM command_log WHERE provider = ? AND request_id = ?',
    );
    this.#log = db.prepare<[number, string, string, string, string, string | null]>(
      "INSERT INTO command_log (at, source, provider, request_id, request, status, reason) VALUES (?, 'cloud', ?, ?, ?, ?, ?) ON CONFLICT (provider, request_id) DO NOTHING",
    );
  }

  /** The answer already given to this request, if any. */
  find(provider: string, requestId: string): { status: CommandStatus; reason: string | null } | undefined {
    return this.#find.get(provider, requestId);
  }

  record(at: number, provider: string, requestId: string, request: string, status: CommandStatus, reason: string | null): void {
    this.#log.run(at, provider, requestId, request, status, reason);
  }
}
