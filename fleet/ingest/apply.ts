import type * as z from 'zod';
import type { ParsedTopic, TOPIC_SCHEMAS } from '../../protocol/index.ts';
import { alarmCode, raiseAlarm } from '../alarms.ts';
import type { Queryable } from '../db/fleetDb.ts';
import { commandState } from '../commands.ts';
import { syncManifest } from '../inventory.ts';

type Of<K extends keyof typeof TOPIC_SCHEMAS> = z.infer<(typeof TOPIC_SCHEMAS)[K]>;
/** The parsed topic whose kinds include K (a union member may stand for several kinds). */
type Topic<K extends ParsedTopic['kind'], T = ParsedTopic> = T extends { kind: infer U } ? (K extends U ? T : never) : never;

/**
 * What each validated record of the low-volume kinds does to the fleet's tables, inside the ingest
 * transaction, one record at a time in the order they arrived (usage, health and maintenance signals,
 * the bulk of the stream, are written a batch at a time by `bulk.ts`). Every write is keyed by the
 * record's idempotency key (or is a state update that gives the same result twice), so a redelivered
 * message changes nothing.
 */
export const APPLY = {
  async status(tx: Queryable, t: Topic<'status'>, r: Of<'status'>, now: number) {
    await tx.query('UPDATE gateways SET state = $2, version = coalesce($3, version), state_at = $4 WHERE gateway_id = $1', [
      t.gatewayId,
      r.state,
      r.version ?? null,
      r.at ?? now,
    ]);
  },

  async alert(tx: Queryable, t: Topic<'alert'>, r: Of<'p/<provider>/alert'>, now: number) {
    const d = r.data;
    const fresh = await tx.query(
      `INSERT INTO alerts (gateway_id, provider, record_key, severity, source, message, device_ref, at, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING 1`,
      [t.gatewayId, t.provider, r.key, d.severity, d.source, d.message, d.deviceId ?? null, d.at, now],
    );
    // a redelivered alert is no repeat: only a new one raises (or repeats) its alarm
    if (fresh.length > 0)
      await raiseAlarm(tx, {
        gatewayId: t.gatewayId,
        deviceRef: d.deviceId,
        code: alarmCode(d.source, d.ruleId),
        severity: d.severity,
        message: d.message,
        at: d.at,
      });
  },

  async manifest(tx: Queryable, t: Topic<'manifest'>, r: Of<'p/<provider>/manifest'>, now: number) {
    await syncManifest(tx, t.gatewayId, r, now);
  },

  async 'cmd-result'(tx: Queryable, t: Topic<'cmd-result'>, r: Of<'p/<provider>/cmd-result/<requestId>'>) {
    const d = r.data;
    await tx.query(
      'INSERT INTO command_results (gateway_id, provider, request_id, status, reason, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [t.gatewayId, t.provider, t.requestId, d.status, d.reason ?? null, d.at],
    );
    // the gateway's answer is the truth, also when it comes after the fleet gave up waiting
    await tx.query(
      "UPDATE commands SET state = $3, reason = $4, finished_at = $5 WHERE request_id = $1 AND gateway_id = $2 AND state IN ('created', 'sent', 'timed_out')",
      [t.requestId, t.gatewayId, commandState(d.status), d.reason ?? null, d.at],
    );
  },

  async 'resend-result'(tx: Queryable, t: Topic<'resend-result'>, r: Of<'p/<provider>/resend-result/<requestId>'>) {
    const d = r.data;
    await tx.query('UPDATE resend_requests SET answered_at = $3, resent = $4, not_covered = $5 WHERE request_id = $1 AND gateway_id = $2', [
      t.requestId,
      t.gatewayId,
      d.at,
      d.resent,
      d.missing,
    ]);
  },

  async 'diag-result'(tx: Queryable, t: Topic<'diag-result'>, r: Of<'p/<provider>/diag-result/<requestId>'>) {
    const d = r.data;
    await tx.query('UPDATE diagnostics SET answered_at = $3, status = $4, data = $5 WHERE request_id = $1 AND gateway_id = $2 AND answered_at IS NULL', [
      t.requestId,
      t.gatewayId,
      d.at,
      d.status,
      JSON.stringify(d),
    ]);
  },
};
