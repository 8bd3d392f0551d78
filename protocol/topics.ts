/** Topics: the gateway's status, and one stream per provider under p/<provider>/ (the broker ACL lets each provider read only its own). */
export const topics = (gatewayId: string) => {
  const base = `trellis/v1/${gatewayId}`;
  const p = (provider: string) => `${base}/p/${provider}`;
  return {
    status: `${base}/status`,
    /** every provider's stream starts here: `<providerPrefix><provider>/...` */
    providerPrefix: `${base}/p/`,
    alert: (provider: string) => `${p(provider)}/alert`,
    usage: (provider: string, deviceRef: string) => `${p(provider)}/usage/${deviceRef}`,
    maintenance: (provider: string, deviceRef: string) => `${p(provider)}/maintenance/${deviceRef}`,
    health: (provider: string) => `${p(provider)}/health`,
    /** what providers send a gateway: cmd, resend and diag requests (one filter each: `p/+/+/+` would echo the gateway's own records) */
    requests: REQUEST_KINDS.map((k) => `${base}/p/+/${k}/+`),
    command: (provider: string, requestId: string) => `${p(provider)}/cmd/${requestId}`,
    commandResult: (provider: string, requestId: string) => `${p(provider)}/cmd-result/${requestId}`,
    manifest: (provider: string) => `${p(provider)}/manifest`,
    resend: (provider: string, requestId: string) => `${p(provider)}/resend/${requestId}`,
    resendResult: (provider: string, requestId: string) => `${p(provider)}/resend-result/${requestId}`,
    diagnostic: (provider: string, requestId: string) => `${p(provider)}/diag/${requestId}`,
    diagnosticResult: (provider: string, requestId: string) => `${p(provider)}/diag-result/${requestId}`,
  };
};

/** What a topic under trellis/v1/ names: a gateway's status, or a record in one provider's stream. */
export type ParsedTopic =
  | { readonly kind: 'status'; readonly gatewayId: string }
  | { readonly kind: 'alert' | 'health' | 'manifest'; readonly gatewayId: string; readonly provider: string }
  | { readonly kind: 'usage' | 'maintenance'; readonly gatewayId: string; readonly provider: string; readonly deviceRef: string }
  | { readonly kind: RequestKind | ResultKind; readonly gatewayId: string; readonly provider: string; readonly requestId: string };

/** What a provider asks of a gateway, and the gateway's answers. */
export const REQUEST_KINDS = ['cmd', 'resend', 'diag'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
const RESULT_KINDS = ['cmd-result', 'resend-result', 'diag-result'] as const;
type ResultKind = (typeof RESULT_KINDS)[number];
const isRequestOrResult = (k: string | undefined): k is RequestKind | ResultKind =>
  (REQUEST_KINDS as readonly string[]).includes(k as string) || (RESULT_KINDS as readonly string[]).includes(k as string);

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is never valid in a topic [MQTT-1.5.3-2]
const SEGMENT = /^[^/+#\u0000]{1,128}$/;

/** Parses a topic the gateway publishes (or a provider's command topic); undefined for anything else. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'trellis' || parts[1] !== 'v1' || parts.some((p) => !SEGMENT.test(p))) return undefined;
  const gatewayId = parts[2] as string;
  if (parts.length === 4 && parts[3] === 'status') return { kind: 'status', gatewayId };
  if (parts[3] !== 'p' || parts.length < 6) return undefined;
  const provider = parts[4] as string;
  const kind = parts[5];
  const last = parts[6];
  if ((kind === 'alert' || kind === 'health' || kind === 'manifest') && parts.length === 6) return { kind, gatewayId, provider };
  if ((kind === 'usage' || kind === 'maintenance') && parts.length === 7 && last) return { kind, gatewayId, provider, deviceRef: last };
  if (isRequestOrResult(kind) && parts.length === 7 && last) return { kind, gatewayId, provider, requestId: last };
  return undefined;
}
