import type { Alarm } from '../alarms.ts';
import { alarm } from '../alarms.ts';
import type { Queryable } from '../db/fleetDb.ts';

/**
 * Escalates each critical alarm still active and unacknowledged `afterMs` after it was raised: one
 * POST of `{ event: 'alarm.escalated', alarm }` to the webhook. An alarm is marked escalated only when
 * the webhook answered 2xx, so a webhook that is down is tried again next round.
 */
export async function escalateAlarms(tx: Queryable, webhook: string | undefined, afterMs: number, now: number): Promise<{ escalated: number; failed: number }> {
  if (!webhook) return { escalated: 0, failed: 0 };
  const due = await tx.query<{ id: number }>(
    `SELECT id FROM alarms WHERE state = 'active' AND NOT acknowledged AND severity = 'critical' AND escalated_at IS NULL AND first_at <= $1 ORDER BY id LIMIT 100`,
    [now - afterMs],
  );
  let escalated = 0;
  let failed = 0;
  for (const { id } of due) {
    const a = (await alarm(tx, id)) as Alarm;
    const ok = await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'alarm.escalated', at: now, alarm: a }),
      signal: AbortSignal.timeout(5000),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      await tx.query('UPDATE alarms SET escalated_at = $2 WHERE id = $1', [id, now]);
      escalated++;
    } else failed++;
  }
  return { escalated, failed };
}
