import { TOPIC_SCHEMAS, parseTopic, REQUEST_KINDS, type ParsedTopic, type RequestKind } from '../../protocol/index.ts';

const MAX_PAYLOAD_BYTES = 256 * 1024;
export const KEPT_PAYLOAD_BYTES = 4096;

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

/** A message from a gateway's stream, checked: the record to apply, or why it is refused. */
export type Checked =
  | { readonly ok: true; readonly topic: ParsedTopic & { kind: StreamKind }; readonly record: { gatewayId: string } }
  | { readonly ok: false; readonly gatewayId: string | undefined; readonly topic: string; readonly payload: Buffer; readonly reason: string };

/**
 * Checks one message against the protocol's zod type for its topic, touching no table. The reason of
 * a refusal names what is wrong (the field's path, the size, the topic).
 */
export function checkMessage(topic: string, payload: Buffer): Checked {
  const parsed = parseTopic(topic);
  const refuse = (gatewayId: string | undefined, reason: string): Checked => ({ ok: false, gatewayId, topic, payload, reason });
  if (!parsed || isRequest(parsed.kind)) return refuse(undefined, `topic ${JSON.stringify(topic.slice(0, 200))} is not a Trellis v1 stream topic`);
  if (payload.length > MAX_PAYLOAD_BYTES) return refuse(parsed.gatewayId, `payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const text = payload.toString('utf8');
  // PostgreSQL's text and jsonb cannot hold U+0000: such a record could never be stored (nor acknowledged)
  if (text.includes('\u0000') || text.includes('\\u0000')) return refuse(parsed.gatewayId, 'payload contains U+0000');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse(parsed.gatewayId, 'payload is not JSON');
  }
  // an object key "__proto__" is dropped by the schema's parse without a word: the record would be stored without it
  const proto = text.includes('"__proto__"') ? protoKeyPath(json) : undefined;
  if (proto) return refuse(parsed.gatewayId, `${proto}: "__proto__" is not a name a record's field or metric may have`);
  const kind = parsed.kind as StreamKind;
  const checked = TOPIC_SCHEMAS[SCHEMA_OF[kind]].safeParse(json);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return refuse(parsed.gatewayId, `${issue?.path.join('.') || '(payload)'}: ${issue?.message ?? 'invalid'}`);
  }
  const record = checked.data as { gatewayId: string };
  if (record.gatewayId !== parsed.gatewayId) return refuse(parsed.gatewayId, `gatewayId "${record.gatewayId}" is not the topic's "${parsed.gatewayId}"`);
  return { ok: true, topic: parsed as ParsedTopic & { kind: StreamKind }, record };
}

/**
 * The path of the first object key named "__proto__" in parsed JSON (`JSON.parse` makes it an own
 * property). Walked with a stack of its own, each entry pointing at its parent, so a payload nested
 * 40,000 deep costs one visit per value and no call stack.
 */
function protoKeyPath(json: unknown): string | undefined {
  interface Visit {
    readonly value: unknown;
    readonly key: string | undefined;
    readonly parent: Visit | undefined;
  }
  const pathOf = (v: Visit): string => {
    const keys: string[] = ['__proto__'];
    for (let at: Visit | undefined = v; at?.key !== undefined; at = at.parent) keys.push(at.key);
    return keys.reverse().join('.');
  };
  const stack: Visit[] = [{ value: json, key: undefined, parent: undefined }];
  for (let v = stack.pop(); v; v = stack.pop()) {
    const value = v.value;
    if (value === null || typeof value !== 'object') continue;
    if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return pathOf(v);
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      stack.push({ value: child, key, parent: v });
    }
  }
  return undefined;
}

/** Text PostgreSQL can store: U+0000 shown as U+FFFD. */
export const clean = (s: string) => s.replaceAll('\u0000', '\uFFFD');
