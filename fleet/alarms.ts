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

/** Clears the active alarms of many (gateway, device, code) in one statement, each at its own time. */
export async function clearAlarms(tx: Queryable, rows: ReadonlyArray<{ gatewayId: string; deviceRef: string; code: string; at: number }>): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE alarms SET state = 'cleared', cleared_at = c.at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS c(g, d, code, at)
     WHERE alarms.gateway_id = c.g AND alarms.device_ref = c.d AND alarms.code = c.code AND alarms.state = 'active'`,
    [rows.map((r) => r.gatewayId), rows.map((r) => r.deviceRef), rows.map((r) => r.code), rows.map((r) => r.at)],
  );
}

/** An alert from a gateway, as the alarm it raises: rule alerts by rule, the others by source. */
export function alarmCode(source: string, ruleId: string | undefined): string {
  return source === 'rule' && ruleId ? `rule.${ruleId}` : source;
}

export interface Alarm {
  readonly id: number;
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly state: 'active' | 'cleared';
  readonly acknowledged: boolean;
  readonly acknowledgedBy: string | null;
  readonly count: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly clearedAt: number | null;
  readonly escalatedAt: number | null;
}

const ALARM_COLUMNS = `id, gateway_id AS "gatewayId", device_ref AS "deviceRef", code, severity, message, state, acknowledged, acknowledged_by AS "acknowledgedBy",
  count, first_at AS "firstAt", last_at AS "lastAt", cleared_at AS "clearedAt", escalated_at AS "escalatedAt"`;

export interface AlarmFilter {
  readonly state?: 'active' | 'cleared' | undefined;
  readonly acknowledged?: boolean | undefined;
  readonly gatewayId?: string | undefined;
  /** only alarms of these (gateway, device) pairs: a technician's tickets */
  readonly devices?: ReadonlyArray<{ gatewayId: string; deviceRef: string }> | undefined;
  readonly limit?: number | undefined;
}

export async function listAlarms(db: Queryable, f: AlarmFilter = {}): Promise<Alarm[]> {
  const keys = f.devices?.map((d) => `${d.gatewayId}\u0001${d.deviceRef}`);
  return db.query<Alarm>(
    `SELECT ${ALARM_COLUMNS} FROM alarms
     WHERE ($1::text IS NULL OR state = $1) AND ($2::boolean IS NULL OR acknowledged = $2) AND ($3::text IS NULL OR gateway_id = $3)
       AND ($4::text[] IS NULL OR gateway_id || chr(1) || device_ref = ANY($4::text[]))
     ORDER BY state, last_at DESC LIMIT $5`,
    [f.state ?? null, f.acknowledged ?? null, f.gatewayId ?? null, keys ?? null, f.limit ?? 500],
  );
}

export async function alarm(db: Queryable, id: number): Promise<Alarm | undefined> {
  return (await db.query<Alarm>(`SELECT ${ALARM_COLUMNS} FROM alarms WHERE id = $1`, [id]))[0];
}

/** Clears an active alarm by hand (someone saw it is over); the alarm, or undefined when there is none by that id. */
export async function clearAlarmById(db: Queryable, id: number, at: number): Promise<Alarm | undefined> {
  await db.query("UPDATE alarms SET state = 'cleared', cleared_at = $2 WHERE id = $1 AND state = 'active'", [id, at]);
  return alarm(db, id);
}

/** Acknowledges an alarm (active or cleared): someone has seen it; it will not be escalated. */
export async function acknowledgeAlarm(db: Queryable, id: number, by: string, at: number): Promise<Alarm | undefined> {
  await db.query('UPDATE alarms SET acknowledged = true, acknowledged_by = $2, acknowledged_at = $3 WHERE id = $1 AND NOT acknowledged', [id, by, at]);
  return alarm(db, id);
}
