import { createHash } from 'node:crypto';
import { clearAlarm, raiseAlarm } from '../alarms.ts';
import type { Queryable } from '../db/fleetDb.ts';

const HOUR = 3_600_000;
/** how far back gaps are looked for and repaired */
const LOOKBACK_MS = 35 * 24 * HOUR;
/** at most this span per resend request (the gateway's limit is 31 days) */
const MAX_SPAN_MS = 7 * 24 * HOUR;

export interface Gap {
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Missing buckets: a gateway closes one bucket per metered device per hour (hours the device or the
 * gateway was down included, marked as gaps inside the bucket), so a device's buckets follow each
 * other hour after hour, and a jump between two of them is buckets that never arrived.
 */
export async function findGaps(db: Queryable, since: number, settledBefore = Number.MAX_SAFE_INTEGER): Promise<Gap[]> {
  return db.query<Gap>(
    `SELECT gateway_id AS "gatewayId", device_ref AS "deviceRef", prev_end AS "from", start_at AS "to" FROM (
       SELECT gateway_id, device_ref, start_at, received_at, lag(end_at) OVER (PARTITION BY gateway_id, device_ref ORDER BY start_at) AS prev_end
       FROM usage_buckets WHERE start_at >= $1
     ) b WHERE prev_end IS NOT NULL AND start_at > prev_end AND received_at <= $2 ORDER BY 1, 2, 3`,
    [since, settledBefore],
  );
}

/**
 * The gap round (one worker at a time): every settled missing span of a granted device gets a resend request
 * (once: the id is derived from the span) and a `usage.gap` alarm; the alarm clears when the
 * device's spans are filled, or the gateway answered it has nothing more to send.
 */
export async function repairGaps(tx: Queryable, now: number, settleMs = 0): Promise<{ gaps: number; requested: number; cleared: number }> {
  const gaps = await findGaps(tx, now - LOOKBACK_MS, now - settleMs);
  let requested = 0;
  const open = new Set<string>();
  for (const g of gaps) {
    const [access] = await tx.query<{ access: string }>('SELECT access FROM devices WHERE gateway_id = $1 AND device_ref = $2', [g.gatewayId, g.deviceRef]);
    if (access?.access === 'ended') continue; // nothing more may come for it
    for (let from = g.from; from < g.to; from += MAX_SPAN_MS) {
      const to = Math.min(g.to, from + MAX_SPAN_MS);
      const requestId = `r-${createHash('sha256').update(`${g.gatewayId}\u0001${g.deviceRef}\u0001${from}\u0001${to}`).digest('base64url').slice(0, 22)}`;
      const inserted = await tx.query(
        `INSERT INTO resend_requests (request_id, gateway_id, device_ref, from_at, to_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [requestId, g.gatewayId, g.deviceRef, from, to, now],
      );
      requested += inserted.length;
      const [req] = await tx.query<{ answered_at: number | null }>('SELECT answered_at FROM resend_requests WHERE request_id = $1', [requestId]);
      if (req?.answered_at === null) open.add(`${g.gatewayId}\u0001${g.deviceRef}`);
    }
  }
  for (const key of open) {
    const [gatewayId, deviceRef] = key.split('\u0001') as [string, string];
    const [active] = await tx.query('SELECT 1 FROM alarms WHERE gateway_id = $1 AND device_ref = $2 AND code = $3 AND state = $4', [
      gatewayId,
      deviceRef,
      'usage.gap',
      'active',
    ]);
    if (!active)
      await raiseAlarm(tx, {
        gatewayId,
        deviceRef,
        code: 'usage.gap',
        severity: 'warning',
        message: 'usage buckets are missing; asked the gateway to resend them',
        at: now,
      });
  }
  let cleared = 0;
  const alarmed = await tx.query<{ gateway_id: string; device_ref: string }>(
    "SELECT gateway_id, device_ref FROM alarms WHERE code = 'usage.gap' AND state = 'active'",
  );
  for (const a of alarmed)
    if (!open.has(`${a.gateway_id}\u0001${a.device_ref}`) && (await clearAlarm(tx, a.gateway_id, a.device_ref, 'usage.gap', now))) cleared++;
  return { gaps: gaps.length, requested, cleared };
}
