import type { Alarm } from '../alarms.ts';
import { alarm } from '../alarms.ts';
import type { FleetDb } from '../db/fleetDb.ts';
import { exclusive, JobLocks } from './exclusive.ts';

/** How long one round's claim on an alarm lasts: a worker that died mid-round leaves it for this long. */
export const ESCALATION_CLAIM_MS = 10 * 60_000;
/** Each POST waits at most this long for the webhook's answer. */
const POST_TIMEOUT_MS = 5000;

/**
 * Escalates each critical alarm still active and unacknowledged `afterMs` after it was raised: one
 * POST of `{ event: 'alarm.escalated', alarm }` to the webhook. The round claims the due alarms in a
 * short transaction (under the job's lock, so two workers never claim the same alarm), posts with no
 * transaction open (a slow or hanging webhook holds no lock and no connection's transaction), then
 * marks each alarm the webhook answered 2xx as escalated and releases the others, which the next round
 * tries again. A worker that dies between a POST and its mark leaves a claim that lapses after
 * `ESCALATION_CLAIM_MS`, and that alarm is posted once more: delivery is at least once, and the
 * alarm's id in the body tells a receiver it has seen it.
 */
export async function escalateAlarms(db: FleetDb, webhook: string | undefined, afterMs: number, now: number): Promise<{ escalated: number; failed: number }> {
  if (!webhook) return { escalated: 0, failed: 0 };
  const claimed =
    (await exclusive(db, JobLocks.escalation, async (tx) => {
      const ids = await tx.query<{ id: number }>(
        `UPDATE alarms SET escalation_claimed_at = $2 WHERE id IN (
           SELECT id FROM alarms WHERE state = 'active' AND NOT acknowledged AND severity = 'critical' AND escalated_at IS NULL AND first_at <= $1
             AND (escalation_claimed_at IS NULL OR escalation_claimed_at <= $3)
           ORDER BY id LIMIT 100)
         RETURNING id`,
        [now - afterMs, now, now - ESCALATION_CLAIM_MS],
      );
      const out: Alarm[] = [];
      for (const { id } of ids.sort((a, b) => a.id - b.id)) out.push((await alarm(tx, id)) as Alarm);
      return out;
    })) ?? [];
  let escalated = 0;
  let failed = 0;
  for (const a of claimed) {
    const ok = await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'alarm.escalated', at: now, alarm: a }),
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) escalated++;
    else failed++;
    await db.query(
      ok
        ? 'UPDATE alarms SET escalated_at = $2, escalation_claimed_at = NULL WHERE id = $1'
        : 'UPDATE alarms SET escalation_claimed_at = NULL WHERE id = $1 AND escalation_claimed_at = $2',
      [a.id, now],
    );
  }
  return { escalated, failed };
}
