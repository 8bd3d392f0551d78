import { pruneAudit } from '../audit.ts';
import type { Queryable } from '../db/fleetDb.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** rows per round, so a long backlog never holds the job's transaction for long */
const BATCH_HOURS = 500;

/**
 * Retention per data class: raw health older than `rawHealthDays` becomes one row per gateway and
 * hour (sample count, the hour's last record, and the mean and max of event-loop lag, CPU, memory
 * and outbox depth), then goes; invalid messages kept for inspection go after `invalidDays`, the
 * console's audit log after `auditDays`. Usage, alarms, tickets and commands are kept.
 */
export async function applyRetention(
  tx: Queryable,
  o: { rawHealthDays: number; invalidDays: number; auditDays: number },
  now: number,
): Promise<{ hours: number; deleted: number }> {
  const cutoff = Math.floor((now - o.rawHealthDays * DAY) / HOUR) * HOUR;
  const hours = await tx.query<{ gateway_id: string; provider: string; hour: number }>(
    `SELECT DISTINCT gateway_id, provider, (at / ${HOUR}) * ${HOUR} AS hour FROM health WHERE at < $1 ORDER BY hour LIMIT ${BATCH_HOURS}`,
    [cutoff],
  );
  let deleted = 0;
  for (const h of hours) {
    await tx.query(
      `INSERT INTO health_hourly (gateway_id, provider, hour, samples, data)
       SELECT $1, $2, $3, count(*)::int, jsonb_build_object(
         'last', (array_agg(data ORDER BY at DESC))[1],
         'lagP99MsMean', avg((data->'eventLoop'->>'lagP99Ms')::float), 'lagMaxMs', max((data->'eventLoop'->>'lagMaxMs')::float),
         'cpuPercentMean', avg((data->'cpu'->>'percent')::float), 'cpuPercentMax', max((data->'cpu'->>'percent')::float),
         'rssBytesMax', max((data->'memory'->>'rssBytes')::float), 'outboxDepthMax', max((data->'outbox'->>'depth')::float))
       FROM health WHERE gateway_id = $1 AND provider = $2 AND at >= $3 AND at < $3 + ${HOUR}
       ON CONFLICT (gateway_id, provider, hour) DO UPDATE SET samples = health_hourly.samples + excluded.samples, data = excluded.data`,
      [h.gateway_id, h.provider, h.hour],
    );
    const gone = await tx.query('DELETE FROM health WHERE gateway_id = $1 AND provider = $2 AND at >= $3 AND at < $3 + $4 RETURNING 1', [
      h.gateway_id,
      h.provider,
      h.hour,
      HOUR,
    ]);
    deleted += gone.length;
  }
  await tx.query('DELETE FROM invalid_messages WHERE received_at < $1', [now - o.invalidDays * DAY]);
  await pruneAudit(tx, o.auditDays, now);
  return { hours: hours.length, deleted };
}
