// When the usage buckets a benchmark published were committed: PostgreSQL's commit timestamps
// (`track_commit_timestamp`), so the time is the commit's and not that of a poll that saw it.
import type { Wire } from '../firmware-sim/fleetSim/records.ts';
import type { FleetDb } from '../fleet/db/fleetDb.ts';

/** A published usage bucket's key, `<gatewayId>/<deviceRef>/<bucketSeq>` (its topic names the first two, its payload the third). */
export function wireKey(w: Wire): string {
  const parts = w.topic.split('/');
  return `${parts[2]}/${parts.at(-1)}/${Number(/"bucketSeq":(\d+)/.exec(w.payload)?.[1])}`;
}

/**
 * Waits until `expected` buckets received since `since` (ms) are stored, at most 10 minutes: a count
 * every 250 ms (a scan of the table being loaded, so not more often), `onPoll` at each. Returns how many are.
 */
export async function waitForStored(db: FleetDb, since: number, expected: number, onPoll: () => void = () => undefined): Promise<number> {
  const deadline = Date.now() + 600_000;
  let stored = 0;
  while (stored < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    onPoll();
    stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_buckets WHERE received_at >= $1', [since]))[0]?.n ?? 0;
  }
  return stored;
}

/** When each bucket received since `since` was committed (ms since the epoch), by `wireKey`. */
export async function commitTimes(db: FleetDb, since: number): Promise<Map<string, number>> {
  const rows = await db.query<{ k: string; c: number }>(
    `SELECT gateway_id || '/' || device_ref || '/' || bucket_seq AS k, (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::float8 AS c
     FROM usage_buckets WHERE received_at >= $1`,
    [since],
  );
  return new Map(rows.map((r) => [r.k, r.c]));
}

/** The last of `committedAt`'s times, or `since` when it is empty (a loop: 347k buckets are too many arguments for Math.max). */
export function lastCommit(committedAt: ReadonlyMap<string, number>, since: number): number {
  let last = since;
  for (const at of committedAt.values()) last = Math.max(last, at);
  return last;
}

/** Publish -> commit of each bucket both maps know, sorted. */
export function lags(sentAt: ReadonlyMap<string, number>, committedAt: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  for (const [key, at] of committedAt) {
    const sent = sentAt.get(key);
    if (sent !== undefined) out.push(at - sent);
  }
  return out.sort((a, b) => a - b);
}
