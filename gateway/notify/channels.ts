import type { Service } from '../core/lifecycle.ts';
import type { GatewayBus, StoredAlert } from '../core/events.ts';
import type { Logger } from '../log.ts';

/**
 * Alerts (a rule's `notify`, a maintenance signal, a gateway fault) delivered to the owner's channels
 * beyond the app: a webhook (a JSON POST) or an ntfy server (ntfy's publish API: the message as the
 * body, title, priority and tags as headers). Each channel has its own bounded queue and sends one at
 * a time with a deadline; a failed send is retried (1 s, 5 s, 30 s) and then dropped, counted and
 * logged without its URL (URLs may carry tokens). Nothing here can slow the rules: sends are async
 * and a full queue drops its oldest message.
 */
export type Severity = 'info' | 'warning' | 'critical';

export interface ChannelConfig {
  readonly name: string;
  readonly type: 'webhook' | 'ntfy';
  /** webhook: the URL to POST to; ntfy: the server and topic, e.g. http://ntfy.lan/shop-alerts */
  readonly url: string;
  /** alerts below this are not sent */
  readonly minSeverity: Severity;
  /** ntfy: an access token (sent as a bearer token) */
  readonly token?: string | undefined;
}

export interface ChannelStatus {
  readonly name: string;
  readonly type: 'webhook' | 'ntfy';
  /** scheme, host and port only: never the path or query, which may hold a secret */
  readonly where: string;
  readonly minSeverity: Severity;
  readonly sent: number;
  readonly failed: number;
  readonly lastOkAt: number | null;
  readonly lastError: string | null;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const RETRIES_MS = [1000, 5000, 30_000];
const QUEUE_MAX = 100;
const NTFY_PRIORITY: Record<Severity, string> = { info: '3', warning: '4', critical: '5' };

export interface Notification {
  readonly severity: Severity;
  readonly message: string;
  readonly source: string;
  readonly at: number;
  readonly ruleId?: string | null | undefined;
  readonly deviceId?: string | null | undefined;
}

/** One request for a channel: what would go over the wire (a function of the config and the message only). */
export function requestFor(c: ChannelConfig, n: Notification, gatewayId: string): { url: string; init: RequestInit } {
  if (c.type === 'webhook') {
    return {
      url: c.url,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          gatewayId,
          severity: n.severity,
          message: n.message,
          source: n.source,
          ruleId: n.ruleId ?? null,
          deviceId: n.deviceId ?? null,
          at: n.at,
        }),
      },
    };
  }
  const headers: Record<string, string> = {
    title: `Trellis ${gatewayId}: ${n.severity}`,
    priority: NTFY_PRIORITY[n.severity],
    tags: n.severity === 'critical' ? 'rotating_light' : n.severity === 'warning' ? 'warning' : 'information_source',
    'content-type': 'text/plain; charset=utf-8',
  };
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  return { url: c.url, init: { method: 'POST', headers, body: n.message } };
}

class Channel {
  readonly #queue: Notification[] = [];
  #busy = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  sent = 0;
  failed = 0;
  lastOkAt: number | null = null;
  lastError: string | null = null;

  constructor(
    readonly cfg: ChannelConfig,
    private readonly send: (c: ChannelConfig, n: Notification) => Promise<void>,
    private readonly log: Logger,
  ) {}

  push(n: Notification): void {
    if (RANK[n.severity] < RANK[this.cfg.minSeverity] || this.#stopped) return;
    if (this.#queue.length >= QUEUE_MAX) {
      this.#queue.shift();
      this.failed++;
    }
    this.#queue.push(n);
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (!this.#stopped && this.#queue.length > 0) {
        const n = this.#queue[0] as Notification;
        if (await this.#deliver(n)) this.#queue.shift();
        else {
          this.#queue.shift();
          this.failed++;
          this.log.error({ channel: this.cfg.name, error: this.lastError }, 'a notification could not be delivered and was dropped');
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Sends with retries; true when delivered. */
  async #deliver(n: Notification): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.send(this.cfg, n);
        this.sent++;
        this.lastOkAt = Date.now();
        this.lastError = null;
        return true;
      } catch (err) {
        this.lastError = (err as Error).message;
        const wait = RETRIES_MS[attempt];
        if (wait === undefined || this.#stopped) return false;
        await new Promise<void>((r) => {
          this.#timer = setTimeout(r, wait);
        });
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  status(): ChannelStatus {
    const u = new URL(this.cfg.url);
    return {
      name: this.cfg.name,
      type: this.cfg.type,
      where: `${u.protocol}//${u.host}`,
      minSeverity: this.cfg.minSeverity,
      sent: this.sent,
      failed: this.failed,
      lastOkAt: this.lastOkAt,
      lastError: this.lastError,
    };
  }
}

export class NotificationChannels implements Service {
  readonly name = 'notifications';
  readonly #channels: Channel[];
  readonly #bus: GatewayBus;
  readonly #gatewayId: string;
  readonly #timeoutMs: number;

  constructor(d: { channels: readonly ChannelConfig[]; bus: GatewayBus; log: Logger; gatewayId: string; timeoutMs: number }) {
    this.#bus = d.bus;
    this.#gatewayId = d.gatewayId;
    this.#timeoutMs = d.timeoutMs;
    this.#channels = d.channels.map((c) => new Channel(c, (cfg, n) => this.#post(cfg, n), d.log));
  }

  start(): void {
    if (this.#channels.length === 0) return;
    this.#bus.on(this, 'alert', (a: StoredAlert) => {
      for (const c of this.#channels) c.push(a);
    });
  }

  stop(): void {
    this.#bus.off(this);
    for (const c of this.#channels) c.stop();
  }

  status(): ChannelStatus[] {
    return this.#channels.map((c) => c.status());
  }

  /** The app's test button: one message to every channel at once (no retries), with each result. */
  async test(by: string): Promise<Array<{ name: string; ok: boolean; error: string | null }>> {
    const n: Notification = { severity: 'info', message: `A test from Trellis, sent by ${by}: this channel works.`, source: 'gateway', at: Date.now() };
    return Promise.all(
      this.#channels.map(async (c) => {
        try {
          await this.#post(c.cfg, n);
          c.sent++;
          c.lastOkAt = Date.now();
          c.lastError = null;
          return { name: c.cfg.name, ok: true, error: null };
        } catch (err) {
          c.lastError = (err as Error).message;
          return { name: c.cfg.name, ok: false, error: (err as Error).message };
        }
      }),
    );
  }

  async #post(c: ChannelConfig, n: Notification): Promise<void> {
    const { url, init } = requestFor(c, n, this.#gatewayId);
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new Error(
        `no answer${cause ? ` (${cause})` : ''}: ${(err as Error).name === 'TimeoutError' ? `nothing within ${this.#timeoutMs} ms` : (err as Error).message}`,
      );
    }
    await res.arrayBuffer().catch(() => undefined); // drain the body so the connection is freed
    if (!res.ok) throw new Error(`the server answered HTTP ${res.status}`);
  }
}
