import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.ts';
import type { CloudConfig } from '../config/cloudSchema.ts';
import type { Hub, HubAlert } from '../hub.ts';
import type { Logger } from '../log.ts';
import type { StoredBucket } from '../metering/service.ts';
import type { Db } from '../store/db.ts';
import type { DeviceRegistry } from '../store/registry.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { CloudLink } from './link.ts';
import { Outbox } from './outbox.ts';
import { topics, type AlertData, type HealthData, type MaintenanceData } from './payloads.ts';
import { RemoteCommands, type SafetyLimit } from './remoteCommands.ts';

export interface CloudSyncDeps {
  readonly config: CloudConfig & { url: string };
  readonly gatewayId: string;
  readonly version: string;
  readonly db: Db;
  readonly dataDir: string;
  readonly dbFile: string;
  readonly hub: Hub;
  readonly registry: DeviceRegistry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly safety: Readonly<Record<string, SafetyLimit>>;
  readonly protectedWriter: (deviceId: string, attribute: string) => string | undefined;
  /** the gateway's health sample, queued every `healthIntervalS` */
  readonly health: () => HealthData;
}

/**
 * Cloud sync: what goes into the outbox (alerts, usage buckets, maintenance signals, health), the link
 * that drains it, and remote commands coming back. Records are queued in the transaction that
 * produced them and the drainer is told only after it commits, so nothing sent can be rolled back.
 */
export class CloudSync {
  readonly outbox: Outbox;
  readonly link: CloudLink;
  readonly commands: RemoteCommands;
  readonly #d: CloudSyncDeps;
  readonly #topics: ReturnType<typeof topics>;
  #cancelHealth: (() => void) | undefined;
  #offAlert: (() => void) | undefined;
  #notify: NodeJS.Immediate | undefined;

  constructor(deps: CloudSyncDeps) {
    this.#d = deps;
    const c = deps.config;
    const now = () => deps.clock.now();
    this.#topics = topics(deps.gatewayId);
    this.outbox = new Outbox(deps.db, { gatewayId: deps.gatewayId, maxBytes: c.outboxMaxBytes, now });
    let password: string | undefined;
    if (c.passwordFile) {
      try {
        password = readFileSync(c.passwordFile, 'utf8').trim();
      } catch (err) {
        throw new TrellisError(ErrorCodes.config, `cloud.passwordFile: cannot read ${c.passwordFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    const log = deps.log;
    this.commands = new RemoteCommands({
      db: deps.db,
      gatewayId: deps.gatewayId,
      outbox: this.outbox,
      log,
      now,
      providers: c.providers,
      safety: deps.safety,
      protectedWriter: deps.protectedWriter,
      execute: (cmd) => deps.hub.command(cmd),
    });
    this.link = new CloudLink(
      {
        url: c.url,
        gatewayId: deps.gatewayId,
        clientId: c.clientId ?? deps.gatewayId,
        username: c.username,
        password,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        protocol: c.protocol,
        keepaliveS: c.keepaliveS,
        window: c.window,
        backoff: { minMs: c.backoffMinMs, maxMs: c.backoffMaxMs },
        version: deps.version,
        now,
      },
      this.outbox,
      log,
      (topic, payload) => void this.commands.handle(topic, payload),
    );
  }

  start(): void {
    this.#offAlert = this.#d.hub.on('alert', (a) => this.alert(a));
    this.#scheduleHealth();
    this.link.start();
  }

  async stop(): Promise<void> {
    this.#offAlert?.();
    this.#cancelHealth?.();
    if (this.#notify) clearImmediate(this.#notify);
    await this.link.stop();
  }

  /** Usage buckets; called inside the metering transaction. */
  usage(buckets: readonly StoredBucket[]): void {
    for (const { seq, ...bucket } of buckets) this.outbox.enqueue('usage', this.#topics.usage(bucket.deviceId), 'usage', { ...bucket, bucketSeq: seq });
    this.#notifyAfterCommit();
  }

  maintenance(data: MaintenanceData): void {
    this.outbox.enqueue('maintenance', this.#topics.maintenance(data.deviceId), 'maintenance', data);
    this.#notifyAfterCommit();
  }

  alert(a: HubAlert): void {
    const data: AlertData = {
      severity: a.severity,
      message: a.message,
      source: a.source ?? 'rule',
      ...(a.ruleId ? { ruleId: a.ruleId } : {}),
      ...(a.deviceId ? { deviceId: a.deviceId } : {}),
      at: a.at,
    };
    this.outbox.enqueue('alarm', this.#topics.alert, 'alert', data);
    this.#notifyAfterCommit();
  }

  health(): HealthData {
    return this.#d.health();
  }

  #scheduleHealth(): void {
    this.#cancelHealth = this.#d.clock.setTimer(this.#d.config.healthIntervalS * 1000, () => {
      try {
        this.outbox.enqueue('telemetry', this.#topics.health, 'health', this.#d.health());
        this.#notifyAfterCommit();
      } catch (err) {
        this.#d.log.error({ err }, 'queuing health failed');
      }
      this.#scheduleHealth();
    });
  }

  #notifyAfterCommit(): void {
    this.#notify ??= setImmediate(() => {
      this.#notify = undefined;
      this.outbox.notify();
    });
  }
}
