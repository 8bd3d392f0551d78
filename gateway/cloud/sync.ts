import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.ts';
import type { CloudConfig } from '../config/cloudSchema.ts';
import type { GatewayBus, StoredAlert } from '../core/events.ts';
import type { Hub } from '../hub.ts';
import type { Logger } from '../log.ts';
import type { StoredBucket, UsageQueue } from '../metering/service.ts';
import type { CommandLog } from '../store/commandLog.ts';
import type { DeviceRegistry } from '../store/registry.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { CloudLink } from './link.ts';
import type { Outbox, Priority } from '../store/outbox.ts';
import { topics, type AlertData, type HealthData, type MaintenanceData } from '../../protocol/index.ts';
import { RemoteCommands, type SafetyLimit } from './remoteCommands.ts';
import type { DataClass, Grants } from '../store/grants.ts';
import type { AuditLog } from '../store/audit.ts';
import type { HistoryQueries } from '../store/historyQueries.ts';
import type { UsageStore } from '../store/usage.ts';
import { buildManifest, manifestProviders } from './manifest.ts';
import { ProviderRequests } from './providerRequests.ts';

export interface CloudSyncDeps {
  readonly config: CloudConfig & { url: string };
  readonly gatewayId: string;
  readonly version: string;
  /** the outbox's table, and the remote commands' log */
  readonly outbox: Outbox;
  readonly commandLog: CommandLog;
  /** remote commands are executed through it */
  readonly hub: Hub;
  readonly bus: GatewayBus;
  readonly registry: DeviceRegistry;
  readonly clock: Clock;
  readonly log: Logger;
  readonly safety: Readonly<Record<string, SafetyLimit>>;
  readonly protectedWriter: (deviceId: string, attribute: string) => string | undefined;
  /** the gateway's health sample, queued every `healthIntervalS` */
  readonly sampleHealth: () => HealthData;
  readonly grants: Grants;
  readonly audit: AuditLog;
  /** resend requests read the stored buckets; diagnostic snapshots the readings */
  readonly usage: UsageStore;
  readonly history: HistoryQueries;
  readonly timeZone: string;
  readonly tags: (deviceId: string) => readonly string[];
}

/** how often the manifests are compared with what was last published (a grant or device changed) */
const MANIFEST_CHECK_MS = 30_000;

/**
 * Cloud sync: what goes into the outbox (alerts, usage buckets, maintenance signals, health), one copy
 * per provider whose grants cover it, in that provider's stream; the link that drains it; remote
 * commands coming back. Records are queued in the transaction that produced them and the drainer is
 * told only after it commits, so nothing sent can be rolled back.
 */
export class CloudSync implements UsageQueue {
  readonly name = 'cloud';
  readonly outbox: Outbox;
  readonly link: CloudLink;
  readonly commands: RemoteCommands;
  readonly requests: ProviderRequests;
  readonly #d: CloudSyncDeps;
  /** provider -> the manifest last published (without its time) */
  readonly #published = new Map<string, string>();
  #cancelManifestCheck: (() => void) | undefined;
  #cancelManifestSoon: (() => void) | undefined;
  readonly #topics: ReturnType<typeof topics>;
  #cancelHealth: (() => void) | undefined;
  #notify: NodeJS.Immediate | undefined;

  constructor(deps: CloudSyncDeps) {
    this.#d = deps;
    const c = deps.config;
    const now = () => deps.clock.now();
    this.#topics = topics(deps.gatewayId);
    this.outbox = deps.outbox;
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
      commandLog: deps.commandLog,
      gatewayId: deps.gatewayId,
      outbox: this.outbox,
      log,
      now,
      grants: deps.grants,
      audit: deps.audit,
      deviceIds: () => [...deps.registry.all()].map((d) => d.id),
      spec: (deviceId, attribute) => deps.registry.get(deviceId)?.attributes[attribute],
      safety: deps.safety,
      protectedWriter: deps.protectedWriter,
      execute: (cmd) => deps.hub.command(cmd),
    });
    this.requests = new ProviderRequests({
      gatewayId: deps.gatewayId,
      grants: deps.grants,
      registry: deps.registry,
      usage: deps.usage,
      history: deps.history,
      hub: deps.hub,
      outbox: this.outbox,
      audit: deps.audit,
      log,
      now,
    });
    const prefix = this.#topics.providerPrefix;
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
      (topic, payload) => {
        const [provider, kind, requestId, ...rest] = topic.startsWith(prefix) ? topic.slice(prefix.length).split('/') : [];
        if (kind === 'cmd') void this.commands.handle(topic, payload);
        else if (provider && kind && requestId && rest.length === 0) this.requests.handle(provider, kind, requestId, payload);
      },
      () => {
        this.#published.clear(); // the broker may have lost its retained messages: publish them again
        void this.publishManifests();
      },
    );
  }

  start(): void {
    const { bus, grants, log } = this.#d;
    bus.on(this, 'alert', (a) => this.alert(a));
    bus.on(this, 'maintenance', (m) => this.maintenance(m));
    // a device going on- or offline changes the manifests: publish them soon (coalesced)
    bus.on(this, 'event', (e) => {
      if (e.kind === 'availability')
        this.#cancelManifestSoon ??= this.#d.clock.setTimer(1000, () => {
          this.#cancelManifestSoon = undefined;
          void this.publishManifests();
        });
    });
    // A revoked grant's queued, unsent records go at once (what other grants still cover stays).
    bus.on(this, 'grantRevoked', (g) => {
      const purged = this.outbox.purge(g.providerId, (cls, deviceId) => grants.stillCovers(g.providerId, cls, deviceId));
      log.info({ provider: g.providerId, grant: g.id, purged }, 'grant revoked; queued records purged');
      void this.publishManifests();
    });
    this.#scheduleManifestCheck();
    this.#scheduleHealth();
    this.link.start();
  }

  async stop(): Promise<void> {
    this.#d.bus.off(this);
    this.#cancelManifestCheck?.();
    this.#cancelManifestSoon?.();
    this.#cancelHealth?.();
    if (this.#notify) clearImmediate(this.#notify);
    await this.link.stop();
  }

  /**
   * Publishes each provider's device manifest (retained) that differs from the one it last got; a
   * provider whose grants are all gone gets an empty one. Runs on connect, on a revoke, a second after
   * a device goes on- or offline, and every 30 s (grants added by the CLI, devices discovered).
   */
  async publishManifests(): Promise<number> {
    const d = this.#d;
    let published = 0;
    try {
      for (const provider of manifestProviders(d.grants)) {
        const m = buildManifest(
          { gatewayId: d.gatewayId, timeZone: d.timeZone, grants: d.grants, registry: d.registry, tags: d.tags, online: (id) => d.hub.state.isOnline(id) },
          provider,
          d.clock.now(),
        );
        const body = JSON.stringify({ ...m, at: 0 });
        if (this.#published.get(provider) === body) continue;
        if (await this.link.publishRetained(this.#topics.manifest(provider), JSON.stringify(m))) {
          this.#published.set(provider, body);
          published++;
        }
      }
    } catch (err) {
      d.log.error({ err }, 'publishing the device manifests failed; the next check tries again');
    }
    return published;
  }

  /** Usage buckets; called inside the metering transaction. */
  queueUsage(buckets: readonly StoredBucket[]): void {
    for (const { seq, ...bucket } of buckets) {
      this.#fanOut('usage', 'usage', 'usage', bucket.deviceId, (provider, ref) => [
        this.#topics.usage(provider, ref as string),
        { ...bucket, deviceId: ref as string, bucketSeq: seq },
      ]);
    }
  }

  maintenance(data: MaintenanceData): void {
    this.#fanOut('maintenance', 'maintenance', 'maintenance', data.deviceId, (provider, ref) => [
      this.#topics.maintenance(provider, ref as string),
      { ...data, deviceId: ref as string },
    ]);
  }

  alert(a: StoredAlert): void {
    this.#fanOut('alarm', 'alerts', 'alert', a.deviceId, (provider, ref) => {
      // a pseudonymous stream must not carry the real id in the text either
      const message = a.deviceId && ref && ref !== a.deviceId ? a.message.replaceAll(a.deviceId, ref) : a.message;
      const data: AlertData = {
        severity: a.severity,
        message,
        source: a.source ?? 'rule',
        ...(a.ruleId ? { ruleId: a.ruleId } : {}),
        ...(ref ? { deviceId: ref } : {}),
        at: a.at,
      };
      return [this.#topics.alert(provider), data];
    });
  }

  /**
   * Queues one copy per provider whose grants cover this class (and device), with the device as that
   * provider knows it. Default deny: no grant, no copy.
   */
  #fanOut(
    priority: Priority,
    cls: DataClass,
    type: string,
    deviceId: string | undefined,
    build: (provider: string, ref: string | undefined) => [string, unknown],
  ): void {
    for (const r of this.#d.grants.recipients(cls, deviceId)) {
      const [topic, data] = build(r.providerId, r.deviceRef);
      this.outbox.enqueue(priority, topic, type, data, { provider: r.providerId, dataClass: cls, deviceId });
    }
    this.#notifyAfterCommit();
  }

  health(): HealthData {
    return this.#d.sampleHealth();
  }

  #scheduleManifestCheck(): void {
    this.#cancelManifestCheck = this.#d.clock.setTimer(MANIFEST_CHECK_MS, () => {
      void this.publishManifests();
      this.#scheduleManifestCheck();
    });
  }

  #scheduleHealth(): void {
    this.#cancelHealth = this.#d.clock.setTimer(this.#d.config.healthIntervalS * 1000, () => {
      try {
        this.queueHealth();
      } catch (err) {
        this.#d.log.error({ err }, 'queuing health failed');
      }
      this.#scheduleHealth();
    });
  }

  /** Queues a health sample for every provider granted `health` (the timer calls it). */
  queueHealth(): void {
    const sample = this.#d.sampleHealth();
    this.#fanOut('telemetry', 'health', 'health', undefined, (provider) => [this.#topics.health(provider), sample]);
  }

  #notifyAfterCommit(): void {
    this.#notify ??= setImmediate(() => {
      this.#notify = undefined;
      this.outbox.notify();
    });
  }
}
