import { clearAlarm, raiseAlarm } from '../alarms.ts';
import type { FleetDb } from '../db/fleetDb.ts';
import { checkDevicesOffline } from './deviceOffline.ts';
import { exclusive, JobLocks } from './exclusive.ts';

export interface OfflineCheckResult {
  /** false when another worker held the check (it ran there) */
  readonly ran: boolean;
  readonly raised: number;
  readonly cleared: number;
}

/**
 * One round of gateway offline detection, run by every worker on a timer and done by one: a
 * transaction-scoped advisory lock that a second worker fails to take (and skips). A gateway is
 * offline when its last will said so or nothing came from it for `silentMs`; its `gateway.offline`
 * alarm is raised once and cleared when it is back. Then the devices' (`deviceOffline.ts`).
 */
export async function checkOffline(db: FleetDb, now: number, silentMs: number, deviceOfflineMs = Number.POSITIVE_INFINITY): Promise<OfflineCheckResult> {
  const done = await exclusive(db, JobLocks.offline, async (tx) => {
    const gateways = await tx.query<{ gateway_id: string; state: string | null; last_seen: number; alarmed: boolean }>(
      `SELECT g.gateway_id, g.state, g.last_seen,
              EXISTS (SELECT 1 FROM alarms a WHERE a.gateway_id = g.gateway_id AND a.device_ref = '' AND a.code = 'gateway.offline' AND a.state = 'active') AS alarmed
       FROM gateways g`,
    );
    let raised = 0;
    let cleared = 0;
    for (const g of gateways) {
      const silent = now - g.last_seen > silentMs;
      const offline = g.state === 'offline' || silent;
      if (offline && !g.alarmed) {
        const why = g.state === 'offline' ? 'its connection ended (last will)' : `nothing heard for ${Math.round((now - g.last_seen) / 60_000)} min`;
        await raiseAlarm(tx, {
          gatewayId: g.gateway_id,
          code: 'gateway.offline',
          severity: 'critical',
          message: `Gateway ${g.gateway_id} is offline: ${why}`,
          at: now,
        });
        raised++;
      } else if (!offline && g.alarmed && (await clearAlarm(tx, g.gateway_id, undefined, 'gateway.offline', now))) cleared++;
    }
    const devices = Number.isFinite(deviceOfflineMs) ? await checkDevicesOffline(tx, now, deviceOfflineMs) : { raised: 0, cleared: 0 };
    return { ran: true, raised: raised + devices.raised, cleared: cleared + devices.cleared };
  });
  return done ?? { ran: false, raised: 0, cleared: 0 };
}
