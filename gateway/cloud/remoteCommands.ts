import type { Command } from '../../drivers/types.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import type { Outbox } from './outbox.ts';
import { commandRequest, topics, type CommandResultData } from './payloads.ts';

/** What a provider may command: devices and, per device, attributes (capabilities). */
export interface ProviderAllowlist {
  readonly id: string;
  readonly commands: ReadonlyArray<{ readonly device: string; readonly attributes: readonly string[] }>;
}

export interface SafetyLimit {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

export interface RemoteCommandDeps {
  readonly db: Db;
  readonly gatewayId: string;
  readonly outbox: Outbox;
  readonly log: Logger;
  readonly now: () => number;
  readonly providers: readonly ProviderAllowlist[];
  /** `device.attribute` -> limits no remote command may pass, whatever the device itself accepts */
  readonly safety: Readonly<Record<string, SafetyLimit>>;
  /** The protected rule that sets this attribute, if any. */
  readonly protectedWriter: (deviceId: string, attribute: string) => string | undefined;
  readonly execute: (command: Command) => Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Remote commands from providers on trellis/v1/<gatewayId>/cmd/<provider>/<requestId>. The provider
 * is named by the topic, which the cloud broker's ACL ties to the provider's identity (a pattern like
 * `pattern write trellis/v1/+/cmd/%u/#`), so a payload cannot claim to be someone else. Each command
 * is checked against the provider's allowlist, protected rules and local safety limits; every one,
 * refused or not, is logged in command_log and answered on .../cmd-result/<provider>/<requestId>.
 * A redelivered request id gets the logged answer again and is not run twice.
 */
export class RemoteCommands {
  readonly #d: RemoteCommandDeps;
  readonly #find: (provider: string, requestId: string) => { status: CommandResultData['status']; reason: string | null } | undefined;
  readonly #log: (at: number, provider: string, requestId: string, request: string, status: string, reason: string | null) => void;
  readonly #prefix: string;
  #handled = 0;

  constructor(deps: RemoteCommandDeps) {
    this.#d = deps;
    this.#prefix = `trellis/v1/${deps.gatewayId}/cmd/`;
    const find = deps.db.prepare<[string, string], { status: CommandResultData['status']; reason: string | null }>('SELECT status, reason FROM command_log WHERE provider = ? AND request_id = ?');
    this.#find = (p, r) => find.get(p, r);
    const log = deps.db.prepare(
      "INSERT INTO command_log (at, source, provider, request_id, request, status, reason) VALUES (?, 'cloud', ?, ?, ?, ?, ?) ON CONFLICT (provider, request_id) DO NOTHING",
    );
    this.#log = (...args) => log.run(...args);
  }

  get handled(): number {
    return this.#handled;
  }

  /** Handles one message from the cloud broker; never throws. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    if (!topic.startsWith(this.#prefix)) return;
    const [provider, requestId, ...rest] = topic.slice(this.#prefix.length).split('/');
    if (!provider || !requestId || rest.length > 0) return;
    if (!REQUEST_ID.test(requestId) || !REQUEST_ID.test(provider)) {
      this.#d.log.warn({ topic }, 'remote command refused: bad provider or request id in the topic');
      return;
    }
    this.#handled++;
    const logged = this.#find(provider, requestId);
    if (logged) {
      this.#answer(provider, requestId, logged.status, logged.reason ?? undefined);
      return;
    }
    const text = payload.toString('utf8');
    const { status, reason } = await this.#run(provider, text);
    this.#log(this.#d.now(), provider, requestId, text.slice(0, 4096), status, reason ?? null);
    const level = status === 'done' ? 'info' : 'warn';
    this.#d.log[level]({ provider, requestId, status, reason }, 'remote command');
    this.#answer(provider, requestId, status, reason);
  }

  async #run(provider: string, text: string): Promise<{ status: CommandResultData['status']; reason?: string }> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { status: 'invalid', reason: 'payload: not JSON' };
    }
    const parsed = commandRequest.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { status: 'invalid', reason: `payload.${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
    }
    const { deviceId, attribute, value } = parsed.data;
    const allow = this.#d.providers.find((p) => p.id === provider);
    if (!allow) return { status: 'refused', reason: `provider "${provider}" may not send commands` };
    if (!allow.commands.some((c) => c.device === deviceId && c.attributes.includes(attribute))) {
      return { status: 'refused', reason: `provider "${provider}" may not set ${deviceId}.${attribute}` };
    }
    const rule = this.#d.protectedWriter(deviceId, attribute);
    if (rule) return { status: 'refused', reason: `${deviceId}.${attribute} is controlled by protected rule "${rule}"` };
    const limit = this.#d.safety[`${deviceId}.${attribute}`];
    if (limit && typeof value === 'number' && ((limit.min !== undefined && value < limit.min) || (limit.max !== undefined && value > limit.max))) {
      return { status: 'refused', reason: `${deviceId}.${attribute}: ${value} is outside the local safety limit ${limit.min ?? '-inf'}..${limit.max ?? 'inf'}` };
    }
    try {
      await this.#d.execute({ deviceId, attribute, value });
      return { status: 'done' };
    } catch (err) {
      return { status: 'failed', reason: (err as Error).message };
    }
  }

  #answer(provider: string, requestId: string, status: CommandResultData['status'], reason: string | undefined): void {
    const data: CommandResultData = { requestId, provider, status, ...(reason ? { reason } : {}), at: this.#d.now() };
    this.#d.outbox.enqueue('alarm', topics(this.#d.gatewayId).commandResult(provider, requestId), 'cmd-result', data);
    this.#d.outbox.notify();
  }
}
