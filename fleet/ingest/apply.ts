import type { z } from 'zod';
import type { ParsedTopic, TOPIC_SCHEMAS } from '../../protocol/index.ts';
import { alarmCode, clearAlarm, raiseAlarm } from '../alarms.ts';
import type { Queryable } from '../db/fleetDb.ts';
import { commandState } from '../commands.ts';
import { syncManifest } from '../inventory.ts';
import { signalWords } from '../signalWords.ts';

type Of<K extends keyof typeof TOPIC_SCHEMAS> = z.infer<(typeof TOPIC_SCHEMAS)[K]>;
/** The parsed topic whose kinds include K (a union member may stand for several kinds). */
type Topic<K extends ParsedTopic['kind'], T = ParsedTopic> = T extends { kind: infer U } ? (K extends U ? T : never) : never;

/**
 * What each validated record does to the fleet's tables, inside the ingest transaction. Every write
 * is keyed by the record's idempotency key (or is a state update that gives the same result twice),
 * so a redelivered message changes nothing.
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

  async usage(tx: Queryable, t: Topic<'usage'>, r: Of<'p/<provider>/usage/<deviceRef>'>, now: number) {
    const d = r.data;
    await tx.query(
      `INSERT INTO usage_buckets (gateway_id, provider, device_ref, bucket_seq, start_at, end_at, data, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [t.gatewayId, t.provider, t.deviceRef, d.bucketSeq, d.start, d.end, JSON.stringify(d), now],
    );
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

  async health(tx: Queryable, t: Topic<'health'>, r: Of<'p/<provider>/health'>) {
    await tx.query('INSERT INTO health (gateway_id, provider, at, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
      t.gatewayId,
      t.provider,
      r.at,
      JSON.stringify(r.data),
    ]);
  },

  /** A signal over its threshold raises `maintenance.<signal>`; the same signal back under it clears it. */
  async maintenance(tx: Queryable, t: Topic<'maintenance'>, r: Of<'p/<provider>/maintenance/<deviceRef>'>) {
    const d = r.data;
    const fresh = await tx.query(
      `INSERT INTO maintenance_signals (gateway_id, provider, device_ref, signal, attribute, at, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
      [t.gatewayId, t.provider, t.deviceRef, d.signal, d.attribute, d.at, JSON.stringify(d)],
    );
    if (fresh.length === 0) return;
    const code = `maintenance.${d.signal}`;
    if (d.exceeded)
      await raiseAlarm(tx, {
        gatewayId: t.gatewayId,
        deviceRef: t.deviceRef,
        code,
        severity: 'warning',
        message: signalWords(d),
        at: d.at,
      });
    else await clearAlarm(tx, t.gatewayId, t.deviceRef, code, d.at);
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
