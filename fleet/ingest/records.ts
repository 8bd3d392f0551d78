import { TOPIC_SCHEMAS, parseTopic, REQUEST_KINDS, type ParsedTopic, type RequestKind } from '../../protocol/index.ts';
import type { Queryable } from '../db/fleetDb.ts';
import { APPLY } from './apply.ts';

const MAX_PAYLOAD_BYTES = 256 * 1024;
const KEPT_PAYLOAD_BYTES = 4096;

type SchemaKey = keyof typeof TOPIC_SCHEMAS;
export type StreamKind = Exclude<ParsedTopic['kind'], RequestKind>;
const SCHEMA_OF: Record<StreamKind, SchemaKey> = {
  status: 'status',
  alert: 'p/<provider>/alert',
  usage: 'p/<provider>/usage/<deviceRef>',
  maintenance: 'p/<provider>/maintenance/<deviceRef>',
  health: 'p/<provider>/health',
  manifest: 'p/<provider>/manifest',
  'cmd-result': 'p/<provider>/cmd-result/<requestId>',
  'resend-result': 'p/<provider>/resend-result/<requestId>',
  'diag-result': 'p/<provider>/diag-result/<requestId>',
};
const isRequest = (k: string): k is RequestKind => (REQUEST_KINDS as readonly string[]).includes(k);

export type Outcome = { readonly stored: true; readonly kind: string } | { readonly stored: false; readonly reason: string };

/**
 * Stores one message from a gateway's stream inside the caller's transaction. The payload is checked
 * against the protocol's zod type for its topic; a bad one is kept in `invalid_messages` (its first
 * 4 KB) and counted on its gateway, never thrown. Every insert is keyed by the record's idempotency
 * key, so a redelivered message changes nothing.
 */
export async function storeMessage(tx: Queryable, topic: string, payload: Buffer, now: number): Promise<Outcome> {
  const parsed = parseTopic(topic);
  if (!parsed || isRequest(parsed.kind))
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
  const kind = parsed.kind as StreamKind;
  const checked = TOPIC_SCHEMAS[SCHEMA_OF[kind]].safeParse(json);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return invalid(tx, parsed.gatewayId, topic, payload, now, `${issue?.path.join('.') || '(payload)'}: ${issue?.message ?? 'invalid'}`);
  }
  const record = checked.data as { gatewayId: string };
  if (record.gatewayId !== parsed.gatewayId)
    return invalid(tx, parsed.gatewayId, topic, payload, now, `gatewayId "${record.gatewayId}" is not the topic's "${parsed.gatewayId}"`);
  await seen(tx, parsed.gatewayId, now);
  await APPLY[kind](tx, parsed as never, record as never, now);
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
