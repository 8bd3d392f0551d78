import type { FleetConfig } from '../config.ts';
import type { Queryable } from '../db/fleetDb.ts';
import { moveTicket, openTicket } from '../tickets.ts';

export interface SweepResult {
  readonly opened: number;
  readonly reopened: number;
  readonly verified: number;
}

const ACTIVE_ALARM = `SELECT 1 FROM alarms a WHERE a.gateway_id = t.gateway_id AND a.device_ref = t.device_ref AND a.code = t.alarm_code AND a.state = 'active'`;

/**
 * The tickets' own round (one worker at a time): opens a ticket for each active alarm whose code is
 * configured to open one (`maintenance.*` matches every maintenance alarm) and has none open; reopens
 * a resolved ticket whose alarm came back; verifies and closes a resolved ticket whose alarm stayed
 * cleared for `verifyAfterMinutes`.
 */
export async function sweepTickets(tx: Queryable, config: FleetConfig['tickets'], now: number): Promise<SweepResult> {
  let opened = 0;
  for (const rule of config.autoOpen) {
    const pattern = rule.code.endsWith('*') ? `${rule.code.slice(0, -1).replaceAll('%', '\\%').replaceAll('_', '\\_')}%` : rule.code;
    const alarms = await tx.query<{ id: number; gateway_id: string; device_ref: string; code: string; message: string }>(
      `SELECT a.id, a.gateway_id, a.device_ref, a.code, a.message FROM alarms a
       WHERE a.state = 'active' AND a.code LIKE $1
         AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.gateway_id = a.gateway_id AND t.device_ref = a.device_ref AND t.alarm_code = a.code AND t.state <> 'closed')
       ORDER BY a.id LIMIT 500`,
      [pattern],
    );
    for (const a of alarms) {
      await openTicket(
        tx,
        { gatewayId: a.gateway_id, deviceRef: a.device_ref, title: rule.title, priority: rule.priority, alarmCode: a.code, alarmId: a.id, notes: a.message },
        config.sla,
        'fleet',
        now,
      );
      opened++;
    }
  }
  const back = await tx.query<{ id: number }>(
    `SELECT t.id FROM tickets t WHERE t.state = 'resolved' AND t.alarm_code IS NOT NULL AND EXISTS (${ACTIVE_ALARM})`,
  );
  for (const t of back) await moveTicket(tx, t.id, { to: 'open', notes: 'the alarm came back after the ticket was resolved' }, 'fleet', now);
  const quiet = await tx.query<{ id: number }>(
    `SELECT t.id FROM tickets t WHERE t.state = 'resolved' AND t.resolved_at <= $1 AND (t.alarm_code IS NULL OR NOT EXISTS (${ACTIVE_ALARM}))`,
    [now - config.verifyAfterMinutes * 60_000],
  );
  for (const t of quiet) {
    await tx.query('UPDATE tickets SET verified_at = $2 WHERE id = $1', [t.id, now]);
    await moveTicket(tx, t.id, { to: 'closed', notes: `verified: the alarm stayed cleared for ${config.verifyAfterMinutes} min` }, 'fleet', now);
  }
  return { opened, reopened: back.length, verified: quiet.length };
}
