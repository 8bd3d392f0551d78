import { topics } from '../../protocol/index.ts';
import type { Queryable } from '../db/fleetDb.ts';

/** Where the fleet's requests to gateways go out: the ingest worker's MQTT connection (QoS 1). */
export interface Publisher {
  publish(topic: string, payload: string): Promise<void>;
}

export interface DispatchOptions {
  readonly provider: string;
  readonly commandTimeoutMs: number;
  /** an unanswered resend or diagnostic request is sent again after this long */
  readonly retryAfterMs: number;
}

export interface DispatchResult {
  readonly sent: number;
  readonly expired: number;
  readonly timedOut: number;
  readonly requests: number;
  /** what to publish once the round's transaction has committed (see dispatch) */
  readonly outbox: ReadonlyArray<{ readonly topic: string; readonly payload: string }>;
}

const ONLINE = `EXISTS (SELECT 1 FROM gateways g WHERE g.gateway_id = x.gateway_id AND g.state = 'online')`;

/**
 * One round of requests to gateways (one worker at a time): commands whose time has come are marked
 * sent for their gateway when it is online, and go out (`outbox`, published by the caller) once the
 * round has committed; a command still unsent at its expiry (the gateway stayed offline) expires; one
 * sent and unanswered for `commandTimeoutMs` has timed out. Resend and diagnostic requests go the same
 * way, and again when unanswered.
 *
 * Nothing is published inside the transaction: it holds row locks that the ingest of the gateways'
 * answers waits for, and a publish waits for a PUBACK on the ingest worker's own connection, which
 * stops reading while its commits are stuck. Publishing in the round deadlocked the whole ingest at
 * 200 sites (`npm run soak:fleet`). A request lost after the commit (the process died) is sent again
 * after `retryAfterMs` (resend, diagnostic) or times out (a command: reported, never repeated by itself).
 */
export async function dispatch(tx: Queryable, o: DispatchOptions, now: number): Promise<DispatchResult> {
  const outbox: Array<{ topic: string; payload: string }> = [];
  const expired = await tx.query("UPDATE commands SET state = 'expired', finished_at = $1 WHERE state = 'created' AND expires_at <= $1 RETURNING 1", [now]);
  const timedOut = await tx.query(
    "UPDATE commands SET state = 'timed_out', finished_at = $1, reason = 'no answer from the gateway' WHERE state = 'sent' AND sent_at <= $2 RETURNING 1",
    [now, now - o.commandTimeoutMs],
  );
  const due = await tx.query<{ request_id: string; gateway_id: string; device_ref: string; attribute: string; value: unknown }>(
    `SELECT request_id, gateway_id, device_ref, attribute, value FROM commands x
     WHERE state = 'created' AND not_before <= $1 AND expires_at > $1 AND ${ONLINE} ORDER BY not_before, request_id LIMIT 500`,
    [now],
  );
  for (const c of due) {
    const payload = { v: 1, deviceId: c.device_ref, attribute: c.attribute, value: c.value };
    outbox.push({ topic: topics(c.gateway_id).command(o.provider, c.request_id), payload: JSON.stringify(payload) });
    await tx.query("UPDATE commands SET state = 'sent', sent_at = $2 WHERE request_id = $1", [c.request_id, now]);
  }
  let requests = 0;
  const resends = await tx.query<{ request_id: string; gateway_id: string; device_ref: string; from_at: number; to_at: number }>(
    `SELECT request_id, gateway_id, device_ref, from_at, to_at FROM resend_requests x
     WHERE answered_at IS NULL AND (sent_at IS NULL OR sent_at <= $1) AND ${ONLINE} ORDER BY created_at LIMIT 200`,
    [now - o.retryAfterMs],
  );
  for (const r of resends) {
    outbox.push({
      topic: topics(r.gateway_id).resend(o.provider, r.request_id),
      payload: JSON.stringify({ v: 1, deviceId: r.device_ref, from: r.from_at, to: r.to_at }),
    });
    await tx.query('UPDATE resend_requests SET sent_at = $2 WHERE request_id = $1', [r.request_id, now]);
    requests++;
  }
  const diagnoses = await tx.query<{ request_id: string; gateway_id: string; device_ref: string }>(
    `SELECT request_id, gateway_id, device_ref FROM diagnostics x
     WHERE answered_at IS NULL AND (sent_at IS NULL OR sent_at <= $1) AND created_at > $2 AND ${ONLINE} ORDER BY created_at LIMIT 200`,
    [now - o.retryAfterMs, now - 24 * 3_600_000],
  );
  for (const d of diagnoses) {
    outbox.push({ topic: topics(d.gateway_id).diagnostic(o.provider, d.request_id), payload: JSON.stringify({ v: 1, deviceId: d.device_ref }) });
    await tx.query('UPDATE diagnostics SET sent_at = $2 WHERE request_id = $1', [d.request_id, now]);
    requests++;
  }
  return { sent: due.length, expired: expired.length, timedOut: timedOut.length, requests, outbox };
}
