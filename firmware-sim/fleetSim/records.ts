import { topics } from '../../protocol/index.ts';
import type { HourOut } from './model.ts';

export interface Wire {
  readonly topic: string;
  readonly payload: string;
}

/**
 * A simulated gateway's side of the wire format (docs/schemas/*.json): the outbox's sequence
 * numbers and idempotency keys, and each record kind as the schemas define it. The tests validate
 * what this writes against those JSON Schemas, not against the fleet's own code.
 */
export class GatewayRecords {
  #seq = 0;
  #bucketSeq = 0;

  constructor(
    readonly gatewayId: string,
    readonly provider: string,
    readonly timeZoneOffset = '+00:00',
  ) {}

  #envelope(type: string, at: number, data: unknown): string {
    const seq = ++this.#seq;
    return JSON.stringify({ v: 1, key: `${this.gatewayId}:${seq}`, seq, gatewayId: this.gatewayId, type, at, data });
  }

  /** Any other record in this provider's stream (a command's or a resend's answer), in the same sequence. */
  record(topic: string, type: string, at: number, data: unknown): Wire {
    return { topic, payload: this.#envelope(type, at, data) };
  }

  /** An hour of one device: its usage bucket, its maintenance signals and its alerts. */
  hour(deviceRef: string, h: HourOut, queuedAt = h.start + 3_600_000): Wire[] {
    const t = topics(this.gatewayId);
    const out: Wire[] = [];
    const bucket = {
      deviceId: deviceRef,
      start: h.start,
      end: h.start + 3_600_000,
      localStart: `${new Date(h.start).toISOString().slice(0, 16)}${this.timeZoneOffset}`,
      metrics: h.metrics,
      gaps: [],
      offlineSeconds: 0,
      bucketSeq: ++this.#bucketSeq,
    };
    out.push({ topic: t.usage(this.provider, deviceRef), payload: this.#envelope('usage', queuedAt, bucket) });
    for (const s of h.signals)
      out.push({ topic: t.maintenance(this.provider, deviceRef), payload: this.#envelope('maintenance', s.at, { deviceId: deviceRef, ...s }) });
    for (const a of h.alerts)
      out.push({
        topic: t.alert(this.provider),
        payload: this.#envelope('alert', a.at, {
          severity: a.severity,
          message: a.message,
          source: 'rule',
          ruleId: 'sim-limits',
          deviceId: deviceRef,
          at: a.at,
        }),
      });
    return out;
  }

  /** The retained manifest: the devices this provider was granted. */
  manifest(at: number, devices: ReadonlyArray<{ deviceRef: string; kind: string; model: string; capabilities: readonly string[] }>): Wire {
    return {
      topic: topics(this.gatewayId).manifest(this.provider),
      payload: JSON.stringify({
        v: 1,
        gatewayId: this.gatewayId,
        at,
        timeZone: 'UTC',
        devices: devices.map((d) => ({
          deviceId: d.deviceRef,
          kind: d.kind,
          model: d.model,
          capabilities: [...d.capabilities],
          commands: [],
          classes: ['usage', 'maintenance', 'alerts', 'health'],
          online: true,
        })),
      }),
    };
  }

  /** The retained birth message, and the last will the broker sends when the connection drops. */
  status(state: 'online' | 'offline', at?: number): Wire {
    return {
      topic: topics(this.gatewayId).status,
      payload: JSON.stringify({ v: 1, gatewayId: this.gatewayId, state, ...(state === 'online' ? { at, version: 'sim' } : {}) }),
    };
  }

  /** Health every minute, with the outbox as it is. */
  health(at: number, outboxDepth: number, devices: number): Wire {
    return {
      topic: topics(this.gatewayId).health(this.provider),
      payload: this.#envelope('health', at, {
        uptimeS: 3600,
        eventLoop: { lagP99Ms: 2, lagMaxMs: 5 },
        cpu: { percent: 3, load1: 0.1 },
        memory: { rssBytes: 80e6, heapUsedBytes: 30e6 },
        disk: { freeBytes: 4e9, databaseBytes: 5e6 },
        outbox: { depth: outboxDepth, bytes: outboxDepth * 600, maxBytes: 268435456, oldestAgeS: outboxDepth > 0 ? 60 : null, dropped: {} },
        drivers: {},
        hub: {},
        devices: { known: devices, online: devices },
        cloud: { connects: 1, published: this.#seq, acked: this.#seq, refused: 0 },
        metering: { errors: 0 },
      }),
    };
  }
}
