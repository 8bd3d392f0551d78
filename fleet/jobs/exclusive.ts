import type { FleetDb, Queryable } from '../db/fleetDb.ts';

/** Advisory lock keys of the periodic jobs: each round of each job runs in one worker only. */
export const JobLocks = {
  offline: 7461627,
  escalation: 7461628,
  tickets: 7461629,
  commands: 7461630,
  gaps: 7461631,
  retention: 7461632,
  risk: 7461633,
} as const;

/**
 * Runs `fn` in a transaction holding the job's transaction-scoped advisory lock, or not at all when
 * another worker holds it (that worker is doing this round). Undefined when skipped.
 */
export async function exclusive<T>(db: FleetDb, lock: number, fn: (tx: Queryable) => Promise<T>): Promise<T | undefined> {
  return db.transaction(async (tx) => {
    const [got] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [lock]);
    return got?.ok ? fn(tx) : undefined;
  });
}
