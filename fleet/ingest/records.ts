import { TOPIC_SCHEMAS, parseTopic, type ParsedTopic } from '../../protocol/index.ts';
import { alarmCode, raiseAlarm } from '../alarms.ts';
import type { Queryable } from '../db/fleetDb.ts';

const MAX_PAYLOAD_BYTES = 256 * 1024;
const KEPT_PAYLOAD_BYTES = 4096;

type SchemaKey = keyof typeof TOPIC_SCHEMAS;
const SCHEMA_OF: Record<Exclude<ParsedTopic['kind'], 'cmd'>, SchemaKey> = {
  status: 'status',
  alert: 'p/<provider>/alert',
  usage: 'p/<provider>/usage/<deviceRef>',
  maintenance: 'p/<provider>/maintenance/<deviceRef>',
  health: 'p/<provider>/health',
  'cmd-result': 'p/<provider>/cmd-result/<requestId>',
};

export type Outcome = { readonly stored: true; readonly kind: string } | { readonly stored: false; readonly reason: string };

/**
 * Stores one message from a gateway's stream inside the caller's transaction. The payload is checked
 * against the protocol's zod type for its topic; a bad one is kept in `invalid_messages` (its first
 * 4 KB) and counted on its gateway, never thrown. Every insert is keyed by the record's idempotency
 * key, so a redelivered message changes nothing.
 */
export async function storeMessage(tx: Queryable, topic: string, payload: Buffer, now: number): Promise<Outcome> {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.kind === 'cmd')
    return invalid(tx, undefined, topic, payload, now, `topic ${JSON.stringify(topic.slice(0, 200))} is not a Trellis v1 stream topic`);
  if (payload.length > MAX_PAYLOAD_BYTES)
    return invalid(tx, parsed.gatewayId, topic, payload, now, `payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const text = payload.toString('utf8');
  // PostgreSQL's text and jsonb cannot hold U+0000: such a record could never be stored (nor acknowledged)
  if (text.includes('\u0000') || text.includes('\\u0000')) return invalid(tx, parsed.gatewayId, topic, payload, now, 'payload contains U+0000');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return invalid(tx, parsed.gatewayId, topic, payload, now, 'payload is not JSON');
  }
  const checked = TOPIC_SCHEMAS[SCHEMA_OF[parsed.kind]].safeParse(json);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return invalid(tx, parsed.gatewayId, topic, payload, now, `${issue?.path.join('.') || '(payload)'}: ${issue?.message ?? 'invalid'}`);
  }
  const record = checked.data as { gatewayId: string; key?: string; data?: Record<string, unknown>; state?: string; version?: string; at?: number };
  if (record.gatewayId !== parsed.gatewayId)
    return invalid(tx, parsed.gatewayId, topic, payload, now, `gatewayId "${record.gatewayId}" is not the topic's "${parsed.gatewayId}"`);
  await seen(tx, parsed.gatewayId, now);
  switch (parsed.kind) {
    case 'status':
      await tx.query('UPDATE gateways SET state = $2, version = coalesce($3, version), state_at = $4 WHERE gateway_id = $1', [
        parsed.gatewayId,
        record.state,
        record.version ?? null,
        record.at ?? now,
      ]);
      break;
    case 'usage': {
      const d = record.data as { bucketSeq: number; start: number; end: number };
      await tx.query(
        `INSERT INTO usage_buckets (gateway_id, provider, device_ref, bucket_seq, start_at, end_at, data, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [parsed.gatewayId, parsed.provider, parsed.deviceRef, d.bucketSeq, d.start, d.end, JSON.stringify(d), now],
      );
      break;
    }
    case 'alert': {
      const d = record.data as { severity: string; source: string; message: string; ruleId?: string; deviceId?: string; at: number };
      const fresh = await tx.query(
        `INSERT INTO alerts (gateway_id, provider, record_key, severity, source, message, device_ref, at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING 1`,
        [parsed.gatewayId, parsed.provider, record.key, d.severity, d.source, d.message, d.deviceId ?? null, d.at, now],
      );
      // a redelivered alert is no repeat: only a new one raises (or repeats) its alarm
      if (fresh.length > 0)
        await raiseAlarm(tx, {
          gatewayId: parsed.gatewayId,
          deviceRef: d.deviceId,
          code: alarmCode(d.source, d.ruleId),
          severity: d.severity,
          message: d.message,
          at: d.at,
        });
      break;
    }
    case 'health':
      await tx.query('INSERT INTO health (gateway_id, provider, at, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        parsed.gatewayId,
        parsed.provider,
        record.at,
        JSON.stringify(record.data),
      ]);
      break;
    case 'maintenance': {
      const d = record.data as { signal: string; attribute: string; at: number };
      await tx.query(
        `INSERT INTO maintenance_signals (gateway_id, provider, device_ref, signal, attribute, at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [parsed.gatewayId, parsed.provider, parsed.deviceRef, d.signal, d.attribute, d.at, JSON.stringify(d)],
      );
      break;
    }
    case 'cmd-result': {
      const d = record.data as { requestId: string; status: string; reason?: string; at: number };
      await tx.query(
        'INSERT INTO command_results (gateway_id, provider, request_id, status, reason, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [parsed.gatewayId, parsed.provider, parsed.requestId, d.status, d.reason ?? null, d.at],
      );
      break;
    }
  }
  return { stored: true, kind: parsed.kind };
}

async function seen(tx: Queryable, gatewayId: string, now: number): Promise<void> {
  await tx.query(
    'INSERT INTO gateways (gateway_id, first_seen, last_seen) VALUES ($1, $2, $2) ON CONFLICT (gateway_id) DO UPDATE SET last_seen = greatest(gateways.last_seen, excluded.last_seen)',
    [gatewayId, now],
  );
}

async function invalid(tx: Queryable, gatewayId: string | undefined, topic: string, payload: Buffer, now: number, reason: string): Promise<Outcome> {
  await tx.query('INSERT INTO invalid_messages (gateway_id, topic, reason, payload, received_at) VALUES ($1, $2, $3, $4, $5)', [
    gatewayId ?? null,
    clean(topic.slice(0, 1024)),
    clean(reason),
    clean(payload.subarray(0, KEPT_PAYLOAD_BYTES).toString('utf8')),
    now,
  ]);
  if (gatewayId) {
    await seen(tx, gatewayId, now);
    await tx.query('UPDATE gateways SET invalid_count = invalid_count + 1 WHERE gateway_id = $1', [gatewayId]);
  }
  return { stored: false, reason };
}

/** Text PostgreSQL can store: U+0000 shown as U+FFFD. */
const clean = (s: string) => s.replaceAll('\u0000', '\uFFFD');
