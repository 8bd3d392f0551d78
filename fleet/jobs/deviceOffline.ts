import { clearAlarm, raiseAlarm } from '../alarms.ts';
import type { Queryable } from '../db/fleetDb.ts';

/**
 * Device offline alarms (in the offline round's transaction): a granted device its gateway's
 * manifest has said is offline for `afterMs` gets a `device.offline` warning; it clears when the
 * device is back, its access ended, or the gateway itself is offline (then `gateway.offline` says it all).
 */
export async function checkDevicesOffline(tx: Queryable, now: number, afterMs: number): Promise<{ raised: number; cleared: number }> {
  const due = await tx.query<{ gateway_id: string; device_ref: string; offline_since: number }>(
    `SELECT d.gateway_id, d.device_ref, d.offline_since FROM devices d JOIN gateways g USING (gateway_id)
     WHERE d.access = 'granted' AND d.online = false AND d.offline_since <= $1 AND g.state IS DISTINCT FROM 'offline'
       AND NOT EXISTS (SELECT 1 FROM alarms a WHERE a.gateway_id = d.gateway_id AND a.device_ref = d.device_ref AND a.code = 'device.offline' AND a.state = 'active')`,
    [now - afterMs],
  );
  for (const d of due)
    await raiseAlarm(tx, {
      gatewayId: d.gateway_id,
      deviceRef: d.device_ref,
      code: 'device.offline',
      severity: 'warning',
      message: `device ${d.device_ref} offline since ${new Date(d.offline_since).toISOString()}`,
      at: now,
    });
  const back = await tx.query<{ gateway_id: string; device_ref: string }>(
    `SELECT a.gateway_id, a.device_ref FROM alarms a
     LEFT JOIN devices d ON d.gateway_id = a.gateway_id AND d.device_ref = a.device_ref
     LEFT JOIN gateways g ON g.gateway_id = a.gateway_id
     WHERE a.code = 'device.offline' AND a.state = 'active'
       AND (d.online IS DISTINCT FROM false OR d.access = 'ended' OR g.state = 'offline')`,
  );
  let cleared = 0;
  for (const a of back) if (await clearAlarm(tx, a.gateway_id, a.device_ref, 'device.offline', now)) cleared++;
  return { raised: due.length, cleared };
}
