import type { Queryable } from './db/fleetDb.ts';

export interface AlarmInput {
  readonly gatewayId: string;
  readonly deviceRef?: string | undefined;
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly at: number;
}

/**
 * Raises an alarm inside the caller's transaction: a new active alarm, or one more repeat of the
 * active alarm with the same (gateway, device, code). The partial unique index makes this one row
 * even when two workers raise it at the same moment (the second waits for the first's commit and
 * then counts a repeat). Returns the alarm's id and its repeat count.
 */
export async function raiseAlarm(tx: Queryable, a: AlarmInput): Promise<{ id: number; count: number }> {
  const rows = await tx.query<{ id: number; count: number }>(
    `INSERT INTO alarms (gateway_id, device_ref, code, severity, message, first_at, last_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (gateway_id, device_ref, code) WHERE state = 'active'
     DO UPDATE SET count = alarms.count + 1, last_at = greatest(alarms.last_at, excluded.last_at), severity = excluded.severity, message = excluded.message
     RETURNING id, count`,
    [a.gatewayId, a.deviceRef ?? '', a.code, a.severity, a.message, a.at],
  );
  return rows[0] as { id: number; count: number };
}

/** Clears the active alarm of (gateway, device, code), if there is one; true when one was cleared. */
export async function clearAlarm(tx: Queryable, gatewayId: string, deviceRef: string | undefined, code: string, at: number): Promise<boolean> {
  const rows = await tx.query(
    "UPDATE alarms SET state = 'cleared', cleared_at = $4 WHERE gateway_id = $1 AND device_ref = $2 AND code = $3 AND state = 'active' RETURNING id",
    [gatewayId, deviceRef ?? '', code, at],
  );
  return rows.length > 0;
}

/** An alert from a gateway, as the alarm it raises: rule alerts by rule, the others by source. */
export function alarmCode(source: string, ruleId: string | undefined): string {
  return source === 'rule' && ruleId ? `rule.${ruleId}` : source;
}
