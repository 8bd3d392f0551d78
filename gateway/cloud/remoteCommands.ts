import type { AttributeSpec, Command } from '../../drivers/types.ts';
import { opensAccess } from '../../rules/access.ts';
import type { Logger } from '../log.ts';
import type { CommandLog } from '../store/commandLog.ts';
import type { Outbox } from '../store/outbox.ts';
import type { AuditLog } from '../store/audit.ts';
import type { Grants } from '../store/grants.ts';
import { commandRequest, topics, type CommandResultData } from '../../protocol/index.ts';

export interface SafetyLimit {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

export interface RemoteCommandDeps {
  readonly commandLog: CommandLog;
  readonly gatewayId: string;
  readonly outbox: Outbox;
  readonly log: Logger;
  readonly now: () => number;
  /** the owner's grants: which provider may set which attributes of which devices */
  readonly grants: Grants;
  readonly audit: AuditLog;
  readonly deviceIds: () => Iterable<string>;
  /** a device's attribute as it announced it (for the guard on unlocking and opening) */
  readonly spec: (deviceId: string, attribute: string) => AttributeSpec | undefined;
  /** `device.attribute` -> limits no remote command may pass, whatever the device itself accepts */
  readonly safety: Readonly<Record<string, SafetyLimit>>;
  /** The protected rule that sets this attribute, if any. */
  readonly protectedWriter: (deviceId: string, attribute: string) => string | undefined;
  readonly execute: (command: Command) => Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Remote commands from providers on trellis/v1/<gatewayId>/p/<provider>/cmd/<requestId>. The provider
 * is named by the topic, which the cloud broker's ACL ties to the provider's identity (a pattern like
 * `pattern write trellis/v1/+/p/%u/cmd/#`), so a payload cannot claim to be someone else. The device is
 * named as the provider knows it (its pseudonym, or its id under an identity grant). Each command needs
 * a grant for that attribute on that device, and is refused against a protected rule or a local safety
 * limit; every one, refused or not, goes into command_log and the audit log and is answered on
 * .../p/<provider>/cmd-result/<requestId>. A redelivered request id gets the logged answer again and is
 * not run twice.
 */
export class RemoteCommands {
  readonly #d: RemoteCommandDeps;
  readonly #prefix: string;
  #handled = 0;

  constructor(deps: RemoteCommandDeps) {
    this.#d = deps;
    this.#prefix = topics(deps.gatewayId).providerPrefix;
  }

  get handled(): number {
    return this.#handled;
  }

  /** Handles one message from the cloud broker; never throws. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    if (!topic.startsWith(this.#prefix)) return;
    const [provider, cmd, requestId, ...rest] = topic.slice(this.#prefix.length).split('/');
    if (!provider || cmd !== 'cmd' || !requestId || rest.length > 0) return;
    if (!REQUEST_ID.test(requestId) || !REQUEST_ID.test(provider)) {
      this.#d.log.warn({ topic }, 'remote command refused: bad provider or request id in the topic');
      return;
    }
    this.#handled++;
    const logged = this.#d.commandLog.find(provider, requestId);
    if (logged) {
      this.#answer(provider, requestId, logged.status, logged.reason ?? undefined);
      return;
    }
    const text = payload.toString('utf8');
    const { status, reason, deviceId } = await this.#run(provider, text);
    this.#d.commandLog.record(this.#d.now(), provider, requestId, text.slice(0, 4096), status, reason ?? null);
    this.#d.audit.append(`provider:${provider}`, 'remote.command', deviceId ?? null, {
      requestId,
      request: text.slice(0, 1024),
      status,
      ...(reason ? { reason } : {}),
    });
    const level = status === 'done' ? 'info' : 'warn';
    this.#d.log[level]({ provider, requestId, status, reason }, 'remote command');
    this.#answer(provider, requestId, status, reason);
  }

  async #run(provider: string, text: string): Promise<{ status: CommandResultData['status']; reason?: string; deviceId?: string }> {
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
    const { deviceId: ref, attribute, value } = parsed.data;
    const granted = this.#d.grants.commandGrant(provider, ref, attribute, this.#d.deviceIds());
    if (!granted) return { status: 'refused', reason: `no grant lets provider "${provider}" set ${attribute} on ${ref}` };
    const deviceId = granted.deviceId; // answers still name the device as the provider knows it (ref)
    // unlocking or opening a way in needs a grant that names this device itself (not *, not a tag)
    if (opensAccess(this.#d.spec(deviceId, attribute), value) && !granted.grant.devices.includes(deviceId))
      return {
        status: 'refused',
        reason: `${ref}.${attribute} = ${JSON.stringify(value)} unlocks or opens a way in: only a grant that names this device and ${attribute} explicitly allows it`,
        deviceId,
      };
    const rule = this.#d.protectedWriter(deviceId, attribute);
    if (rule) return { status: 'refused', reason: `${ref}.${attribute} is controlled by protected rule "${rule}"`, deviceId };
    const limit = this.#d.safety[`${deviceId}.${attribute}`];
    if (limit && typeof value === 'number' && ((limit.min !== undefined && value < limit.min) || (limit.max !== undefined && value > limit.max))) {
      return {
        status: 'refused',
        reason: `${ref}.${attribute}: ${value} is outside the local safety limit ${limit.min ?? '-inf'}..${limit.max ?? 'inf'}`,
        deviceId,
      };
    }
    try {
      await this.#d.execute({ deviceId, attribute, value });
      return { status: 'done', deviceId };
    } catch (err) {
      return { status: 'failed', reason: (err as Error).message.replaceAll(deviceId, ref), deviceId };
    }
  }

  #answer(provider: string, requestId: string, status: CommandResultData['status'], reason: string | undefined): void {
    const data: CommandResultData = { requestId, provider, status, ...(reason ? { reason } : {}), at: this.#d.now() };
    this.#d.outbox.enqueue('alarm', topics(this.#d.gatewayId).commandResult(provider, requestId), 'cmd-result', data);
    this.#d.outbox.notify();
  }
}
