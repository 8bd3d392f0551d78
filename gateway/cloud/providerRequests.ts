import { diagnosticRequest, resendRequest, topics, type DiagnosticData, type ResendResultData } from '../../protocol/index.ts';
import type { Hub } from '../hub.ts';
import type { Logger } from '../log.ts';
import type { AuditLog } from '../store/audit.ts';
import type { Grants } from '../store/grants.ts';
import type { HistoryQueries } from '../store/historyQueries.ts';
import type { Outbox } from '../store/outbox.ts';
import type { DeviceRegistry } from '../store/registry.ts';
import type { UsageStore } from '../store/usage.ts';

const HOUR = 3_600_000;
const MAX_SPAN_MS = 31 * 24 * HOUR;
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface ProviderRequestDeps {
  readonly gatewayId: string;
  readonly grants: Grants;
  readonly registry: DeviceRegistry;
  readonly usage: UsageStore;
  readonly history: HistoryQueries;
  readonly hub: Pick<Hub, 'state'>;
  readonly outbox: Outbox;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly now: () => number;
}

/**
 * What a provider may ask of a gateway besides commands, each answered in its own stream and
 * recorded in the audit log:
 * - resend: usage buckets of a device in a time span, queued again from the gateway's own store (a
 *   gap the provider's fleet found), only while a grant gives the provider that device's usage;
 * - diag: a diagnostic snapshot of a device (current attributes, the last hour of readings), only
 *   where the owner granted the provider `telemetry` of it.
 * The device is named as the provider knows it, and the answers name it so too.
 */
export class ProviderRequests {
  readonly #d: ProviderRequestDeps;

  constructor(deps: ProviderRequestDeps) {
    this.#d = deps;
  }

  /** Handles a resend or diag request; false for a topic that is neither. Never throws. */
  handle(provider: string, kind: string, requestId: string, payload: Buffer): boolean {
    if (kind !== 'resend' && kind !== 'diag') return false;
    if (!REQUEST_ID.test(requestId) || !REQUEST_ID.test(provider)) {
      this.#d.log.warn({ provider: provider.slice(0, 64), kind }, 'provider request refused: bad provider or request id in the topic');
      return true;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    try {
      if (kind === 'resend') this.#resend(provider, requestId, json);
      else this.#diagnose(provider, requestId, json);
    } catch (err) {
      this.#d.log.error({ err, provider, kind, requestId }, 'provider request failed');
    }
    return true;
  }

  #resend(provider: string, requestId: string, json: unknown): void {
    const d = this.#d;
    const parsed = resendRequest.safeParse(json);
    const answer = (data: Omit<ResendResultData, 'requestId' | 'at'>) => {
      d.outbox.enqueue('usage', topics(d.gatewayId).resendResult(provider, requestId), 'resend-result', { requestId, ...data, at: d.now() });
      d.outbox.notify();
      d.audit.append(`provider:${provider}`, 'remote.resend', null, { requestId, ...data });
    };
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return answer({
        deviceId: '',
        status: 'refused',
        reason: `payload.${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
        resent: 0,
        missing: 0,
      });
    }
    const { deviceId: ref, from, to } = parsed.data;
    const hours = Math.max(0, Math.ceil((to - from) / HOUR));
    if (to <= from || to - from > MAX_SPAN_MS)
      return answer({ deviceId: ref, status: 'refused', reason: 'from..to: expected 1 hour to 31 days', resent: 0, missing: 0 });
    const deviceId = d.grants.deviceFor(
      provider,
      ref,
      'usage',
      [...d.registry.all()].map((x) => x.id),
    );
    if (!deviceId)
      return answer({ deviceId: ref, status: 'refused', reason: `no grant gives provider "${provider}" the usage of ${ref}`, resent: 0, missing: hours });
    const buckets = d.usage.buckets(deviceId, from, to);
    for (const b of buckets) {
      const bucket = JSON.parse(b.data) as Record<string, unknown>;
      d.outbox.enqueue(
        'usage',
        topics(d.gatewayId).usage(provider, ref),
        'usage',
        { ...bucket, deviceId: ref, bucketSeq: b.seq },
        { provider, dataClass: 'usage', deviceId },
      );
    }
    answer({ deviceId: ref, status: 'done', resent: buckets.length, missing: Math.max(0, hours - buckets.length) });
  }

  #diagnose(provider: string, requestId: string, json: unknown): void {
    const d = this.#d;
    const parsed = diagnosticRequest.safeParse(json);
    const ref = parsed.success ? parsed.data.deviceId : '';
    const answer = (data: Omit<DiagnosticData, 'requestId' | 'deviceId' | 'at'>, deviceId?: string) => {
      d.outbox.enqueue(
        'alarm',
        topics(d.gatewayId).diagnosticResult(provider, requestId),
        'diag-result',
        { requestId, deviceId: ref, ...data, at: d.now() },
        {
          provider,
          dataClass: 'telemetry',
          deviceId,
        },
      );
      d.outbox.notify();
      d.audit.append(`provider:${provider}`, 'remote.diagnostic', deviceId ?? null, {
        requestId,
        status: data.status,
        ...(data.reason ? { reason: data.reason } : {}),
      });
    };
    if (!parsed.success) return answer({ status: 'refused', reason: 'payload: expected {"v": 1, "deviceId": "..."}' });
    const deviceId = d.grants.deviceFor(
      provider,
      ref,
      'telemetry',
      [...d.registry.all()].map((x) => x.id),
    );
    const device = deviceId ? d.registry.get(deviceId) : undefined;
    if (!device || !deviceId) return answer({ status: 'refused', reason: `no grant gives provider "${provider}" the telemetry of ${ref}` });
    const now = d.now();
    const attributes: Record<string, number | boolean | string | null> = {};
    for (const [name, s] of d.hub.state.attributes(deviceId)) attributes[name] = s.value as number | boolean | string | null;
    const readings: NonNullable<DiagnosticData['readings']> = [];
    for (const [attribute, seriesId] of Object.entries(device.seriesIds)) {
      for (const p of d.history.points(seriesId, now - HOUR, now, 60)) if (readings.length < 2000) readings.push({ attribute, at: p.t, value: p.mean });
    }
    readings.sort((a, b) => a.at - b.at);
    answer({ status: 'done', online: d.hub.state.isOnline(deviceId), attributes, readings }, deviceId);
  }
}
