import { join } from 'node:path';
import { MqttDriver } from '../drivers/mqtt/driver.ts';
import type { Driver } from '../drivers/types.ts';
import { RuleFileWatcher } from './automation/ruleFile.ts';
import { RuleHost } from './automation/ruleHost.ts';
import { realClock, type Clock } from './clock.ts';
import type { Config } from './config/schema.ts';
import { Hub } from './hub.ts';
import { createLogger, RateLimitedLog, type Logger } from './log.ts';
import { CredentialStore } from './store/credentials.ts';
import { databaseFile, storeOptions, type Db } from './store/db.ts';
import { openOrSetAside } from './store/recover.ts';
import { HistoryWriter } from './store/historyWriter.ts';
import { WalSync, offLoopWrites } from './store/walSync.ts';
import { DeviceRegistry } from './store/registry.ts';
import { sqliteRetainedConfigs } from './store/retainedConfigs.ts';
import { RetentionPruner } from './store/retention.ts';
import type { CloudSync } from './cloud/sync.ts';
import { HealthSampler } from './health.ts';
import type { LanService } from './lan/service.ts';
import type { Advertiser } from './lan/service.ts';
import type { MeteringService } from './metering/service.ts';
import { startUsage, type Usage } from './usage.ts';
import { AuditLog } from './privacy/audit.ts';
import { Grants } from './privacy/grants.ts';
import { VERSION } from './version.ts';
import { Argon2Gate, PasswordHasher } from './auth/passwordHasher.ts';
import { AuthThrottle } from './auth/throttle.ts';
import { DeviceAuth } from './auth/deviceAuth.ts';
import { ClientIdStore } from './store/clientIds.ts';
import { DEVICE_HASH_OPTIONS } from './store/credentials.ts';
import { fileMaterial, type TlsMaterial } from './net/certificates.ts';
import { gatewayNames } from './net/names.ts';
import { SelfSignedTls } from './net/selfSigned.ts';

export interface GatewayDeps {
  readonly config: Readonly<Config>;
  readonly logger?: Logger;
  /** Time for rules and event stamps; tests and demos may run it faster. */
  readonly clock?: Clock;
  /** mDNS advertiser (when `lan.mdns` is on); tests inject a fake. */
  readonly advertiser?: () => Promise<Advertiser>;
}

/** The parts of a running gateway that other services (CLI, tests, later the LAN API) use. */
export interface RunningGateway {
  readonly hub: Hub;
  readonly registry: DeviceRegistry;
  readonly credentials: CredentialStore;
  readonly writer: HistoryWriter;
  readonly mqtt: MqttDriver;
  /** Loaded only when serial lines / BLE devices are configured (they cost memory: serialport, dbus-next). */
  readonly serial: Driver | undefined;
  readonly ble: Driver | undefined;
  readonly rules: RuleHost;
  readonly ruleFile: RuleFileWatcher;
  /** Hourly usage buckets; undefined when `metering.enabled` is false. */
  readonly metering: MeteringService | undefined;
  /** Present when `cloud.url` is configured. */
  readonly cloud: CloudSync | undefined;
  /** The LAN API and phone UI; undefined when `lan.enabled` is false. */
  readonly lan: LanService | undefined;
  /** What each service provider may see and do. */
  readonly grants: Grants;
  readonly audit: AuditLog;
  readonly db: Db;
  /** the plain MQTT listener (or the TLS one when `mqtt.plain` is off) */
  readonly mqttAddress: { host: string; port: number };
  /** MQTT over TLS, when on: its address and the certificate's fingerprints */
  readonly mqttTls: { readonly host: string; readonly port: number; readonly fingerprint: string; readonly caFingerprint: string | undefined } | undefined;
  readonly clientIds: ClientIdStore;
  /** the gateway's self-signed TLS material (its CA and server certificate), when a listener uses it */
  readonly tls: SelfSignedTls | undefined;
  /** where every argon2 check of a device or person waits its turn */
  readonly argon2: Argon2Gate;
}

const DAY_MS = 86_400_000;

/**
 * The composition root: config -> store -> registry/state -> history writer -> hub -> drivers.
 * The constructor only assigns; `start()` opens the database and sockets, `stop()` releases every
 * socket, timer and file handle. Both are idempotent.
 */
export class Gateway {
  readonly #config: Readonly<Config>;
  readonly #log: Logger;
  readonly #clock: Clock;
  #running: RunningGateway | undefined;
  #pruner: RetentionPruner | undefined;
  #health: HealthSampler | undefined;
  #selfSigned: SelfSignedTls | undefined;
  readonly #advertiser: (() => Promise<Advertiser>) | undefined;
  #starting: Promise<RunningGateway> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(deps: GatewayDeps) {
    this.#config = deps.config;
    this.#log = deps.logger ?? createLogger(deps.config.log.level);
    this.#clock = deps.clock ?? realClock;
    this.#advertiser = deps.advertiser;
  }

  get running(): RunningGateway | undefined {
    return this.#running;
  }

  start(): Promise<RunningGateway> {
    if (this.#running) return Promise.resolve(this.#running);
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<RunningGateway> {
    await this.#stopping;
    const config = this.#config;
    const log = this.#log;
    const { db, setAside } = openOrSetAside(databaseFile(config.dataDir), storeOptions(config.store));
    if (setAside) log.error({ setAside }, 'the database was damaged: set aside, starting with an empty one');
    const undo: Array<() => unknown> = []; // what to release, newest first, if start-up fails midway
    try {
      db.prepare('UPDATE devices SET online = 0 WHERE online = 1').run(); // nobody is connected yet
      const storeLog = log.child({ component: 'store' });
      // with `full`, history and registrations are fsynced on the thread pool (see WalSync)
      const walSync = config.store.synchronous === 'full' ? new WalSync(`${db.name}-wal`) : undefined;
      const offLoop = offLoopWrites(db, walSync, (err) => storeLog.error({ err }, 'syncing the database failed'));
      const registry = new DeviceRegistry(db, offLoop);
      registry.load();
      const writer = new HistoryWriter(db, registry, {
        flushMs: config.history.flushMs,
        ackFlushMs: config.history.ackFlushMs,
        batchSize: config.history.batchSize,
        lastValuesEveryMs: config.history.lastValuesEveryS * 1000,
        walSync,
      });
      writer.catchUp();
      writer.onError = (err) => storeLog.error({ err }, 'committing readings failed');
      const hub = new Hub(registry, writer);
      hub.state.load(db);
      // One argon2 computation at a time for devices and people together (see Argon2Gate).
      const argon2 = new Argon2Gate();
      const credentials = new CredentialStore(db, new PasswordHasher(argon2, DEVICE_HASH_OPTIONS));
      const clientIds = new ClientIdStore(db, (name) => credentials.get(name) !== undefined, offLoop);
      const deviceAuth = new DeviceAuth(credentials, new AuthThrottle());
      this.#wireLogs(hub);
      const selfSigned =
        config.mqtt.tls === 'self-signed' || (config.lan.enabled && config.lan.tls === 'self-signed')
          ? new SelfSignedTls(config.dataDir, () => gatewayNames({ gatewayId: config.gatewayId, extra: config.hostnames, boundHosts: [config.mqtt.host, config.lan.host] }), log.child({ component: 'tls' }))
          : undefined;
      this.#selfSigned = selfSigned;
      const mqttTls: TlsMaterial | undefined =
        config.mqtt.tls === 'off' ? undefined : config.mqtt.tls === 'files' ? fileMaterial(config.mqtt.cert as string, config.mqtt.key as string) : await (selfSigned as SelfSignedTls).material();

      const rulesLog = log.child({ component: 'rules' });
      const rules = new RuleHost({
        hub,
        registry,
        db,
        clock: this.#clock,
        log: rulesLog,
        options: { timezone: config.timezone, tariffs: config.tariffs, cascadeLimit: config.rules.cascadeLimit, traceLimit: config.rules.traceLimit },
      });
      const ruleFile = new RuleFileWatcher(config.rules.file, rules, rulesLog, join(config.dataDir, 'rules.last-good.json'));
      undo.push(() => rules.stop(), () => ruleFile.close());
      // Rules are checked (on a worker) and active before any driver delivers an event, so none is missed.
      // Rules naming a device not known yet are retried when one appears: also the devices the MQTT
      // driver registers from retained configs as it starts.
      hub.on('device', () => ruleFile.retryIfFailed());
      await ruleFile.load();
      const mqttLog = log.child({ component: 'mqtt' });
      const violations = new RateLimitedLog();
      const mqtt = new MqttDriver({
        broker: {
          host: config.mqtt.host,
          port: config.mqtt.port,
          allowAnonymous: config.mqtt.allowAnonymous,
          maxPacketBytes: config.mqtt.maxPacketBytes,
          maxTopicLevels: config.mqtt.maxTopicLevels,
          maxInflight: config.mqtt.maxInflight,
          plain: config.mqtt.plain,
          tls: mqttTls ? { port: config.mqtt.tlsPort, cert: mqttTls.cert, key: mqttTls.key } : undefined,
        },
        maxPayloadBytes: config.mqtt.maxPayloadBytes,
        authenticate: (username, password, source) => deviceAuth.authenticate(username, password, source),
        claimClientId: (clientId, name, anonymous) => clientIds.claim(clientId, name, anonymous),
        configs: sqliteRetainedConfigs(db, offLoop),
        now: () => this.#clock.now(),
        onViolation: (who, kind, detail) =>
          violations.maybe(`${who ?? '?'}:${kind}`, Date.now(), (suppressed) =>
            mqttLog.warn({ deviceId: who, kind, suppressed }, `refused: ${detail}`),
          ),
      });
      hub.addDriver(mqtt);
      undo.push(() => mqtt.stop());
      await mqtt.start(hub);
      const tlsAddress = mqtt.tlsAddress;
      const address = (mqtt.address ?? tlsAddress) as { host: string; port: number };
      mqttLog.info({ host: address.host, port: mqtt.address?.port, tlsPort: tlsAddress?.port, fingerprint: mqttTls?.fingerprint }, 'mqtt broker listening');
      if (config.mqtt.tls === 'self-signed') undo.push(selfSigned?.onRenewed((m) => mqtt.updateTls(m)) ?? (() => undefined));
      selfSigned?.start();
      undo.push(() => selfSigned?.stop());

      let serial: Driver | undefined;
      if (config.serial.length > 0) {
        const { SerialDriver } = await import('../drivers/serial/driver.ts');
        const driver = new SerialDriver(config.serial);
        serial = driver;
        hub.addDriver(driver);
        undo.push(() => driver.stop());
        await driver.start(hub);
        log.child({ component: 'serial' }).info({ lines: config.serial.map((l) => l.path) }, 'serial lines configured');
      }
      let ble: Driver | undefined;
      if (config.ble.devices.length > 0) {
        const { BleDriver } = await import('../drivers/ble/driver.ts');
        const driver = new BleDriver(config.ble);
        ble = driver;
        hub.addDriver(driver);
        undo.push(() => driver.stop());
        await driver.start(hub);
      }

      rules.start();
      ruleFile.watch();
      const storeAlert = db.prepare('INSERT INTO alerts (at, rule_id, severity, message, source, device_id) VALUES (?, ?, ?, ?, ?, ?)');
      hub.on('alert', (a) => {
        storeAlert.run(a.at, a.ruleId ?? null, a.severity, a.message, a.source ?? 'rule', a.deviceId ?? null);
        log.warn({ ruleId: a.ruleId, deviceId: a.deviceId, source: a.source, severity: a.severity }, `alert: ${a.message}`);
      });
      let usage: Usage | undefined;
      const health = new HealthSampler({
        dataDir: config.dataDir,
        dbFile: databaseFile(config.dataDir),
        hub,
        registry,
        drivers: () => hub.drivers(),
        outbox: () => usage?.cloud?.outbox,
        link: () => usage?.cloud?.link.status(),
        meteringErrors: () => usage?.metering?.errors ?? 0,
        now: () => this.#clock.now(),
      });
      undo.push(() => health.close());
      const grants = new Grants(db, () => this.#clock.now());
      const audit = new AuditLog(db, () => this.#clock.now());
      usage = startUsage({ config, db, hub, registry, writer, rules, log, clock: this.#clock, health: () => health.sample(), grants, audit });
      const { metering, cloud } = usage;
      if (setAside) {
        hub.alert({
          source: 'gateway',
          severity: 'critical',
          message: `The database was damaged and was set aside as ${setAside}; Trellis started with an empty one. Devices announce themselves again; earlier history is in that file.`,
          at: this.#clock.now(),
        });
      }
      undo.push(() => metering?.stop(), () => cloud?.stop());
      let lan: LanService | undefined;
      if (config.lan.enabled) {
        // Loaded only when on: fastify and its plugins cost memory.
        const { LanService } = await import('./lan/service.ts');
        const { People } = await import('./lan/people.ts');
        const service = new LanService({
          config: config.lan,
          dataDir: config.dataDir,
          gatewayId: config.gatewayId,
          hostnames: config.hostnames,
          selfSigned,
          log: log.child({ component: 'lan' }),
          advertiser: this.#advertiser,
          context: { db, hub, registry, writer, rules, ruleFile, rulesFile: config.rules.file, people: new People(db, new PasswordHasher(argon2)), throttle: new AuthThrottle(), grants, audit, clock: this.#clock, version: VERSION, health: () => health.peek(), cloud: () => cloud?.link.status() },
        });
        undo.push(() => service.stop());
        await service.start();
        lan = service;
      }

      const pruner = new RetentionPruner(db);
      pruner.schedule(config.history.retentionDays * DAY_MS, 3_600_000, (err) => storeLog.error({ err }, 'pruning history failed'), config.metering.retentionDays * DAY_MS);
      this.#pruner = pruner;
      this.#health = health;
      const tlsInfo = tlsAddress && mqttTls ? { ...tlsAddress, fingerprint: mqttTls.fingerprint, caFingerprint: mqttTls.caFingerprint } : undefined;
      this.#running = { hub, registry, credentials, writer, mqtt, serial, ble, rules, ruleFile, metering, cloud, lan, grants, audit, db, mqttAddress: address, mqttTls: tlsInfo, clientIds, tls: selfSigned, argon2 };
      return this.#running;
    } catch (err) {
      for (const release of undo.reverse()) await release();
      db.close();
      throw err;
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    this.#pruner?.stop();
    this.#pruner = undefined;
    this.#selfSigned?.stop();
    this.#selfSigned = undefined;
    await running.lan?.stop();
    await running.cloud?.stop();
    running.metering?.stop();
    this.#health?.close();
    this.#health = undefined;
    running.ruleFile.close();
    await running.ruleFile.settled();
    running.rules.stop();
    await running.ble?.stop();
    await running.serial?.stop();
    await running.mqtt.stop();
    running.clientIds.flush();
    running.writer.close();
    running.db.close();
  }

  #wireLogs(hub: Hub): void {
    const hubLog = this.#log.child({ component: 'hub' });
    const limiter = new RateLimitedLog();
    hub.on('rejected', (r) =>
      limiter.maybe(`${r.deviceId ?? r.source}`, Date.now(), (suppressed) =>
        hubLog.warn({ deviceId: r.deviceId, source: r.source, suppressed }, `rejected payload: ${r.reason}`),
      ),
    );
    hub.on('device', (d) => hubLog.debug({ deviceId: d.id, attributes: Object.keys(d.attributes) }, 'device described'));
  }
}
