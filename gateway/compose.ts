import { join } from 'node:path';
import { AlertService } from './alerts.ts';
import type { Argon2Gate } from './auth/passwordHasher.ts';
import type { Restored } from './backup/recoverFromBackup.ts';
import { BackupScheduler } from './backup/schedule.ts';
import { NotificationChannels } from './notify/channels.ts';
import { DeviceAuth } from './auth/deviceAuth.ts';
import { AuthThrottle } from './auth/throttle.ts';
import { RuleFileWatcher } from './automation/ruleFile.ts';
import { RuleHost } from './automation/ruleHost.ts';
import type { Clock } from './clock.ts';
import type { BleDriver } from '../drivers/ble/driver.ts';
import type { Config } from './config/schema.ts';
import type { GatewayBus } from './core/events.ts';
import { service, type Service } from './core/lifecycle.ts';
import { HealthSampler } from './health.ts';
import { Hub } from './hub.ts';
import type { Advertiser } from './lan/service.ts';
import { RateLimitedLog, type Logger } from './log.ts';
import { Baselines } from './maintenance/baselines.ts';
import { MaintenanceMonitor, hourlyValue } from './maintenance/monitor.ts';
import { gatewayNames } from './net/names.ts';
import { SelfSignedTls } from './net/selfSigned.ts';
import type { RunningGateway } from './runningGateway.ts';
import type { Store } from './store/store.ts';
import { brokerService, cloudService, lanService, meteringService, optionalDriver, prunerService } from './services.ts';

export interface Environment {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly bus: GatewayBus;
  readonly store: Store;
  readonly argon2: Argon2Gate;
  readonly advertiser?: (() => Promise<Advertiser>) | undefined;
  readonly configFile?: string | undefined;
}

export interface Composition {
  /** every long-lived part after the store, in start order (the stop order is its reverse) */
  readonly services: ReadonlyArray<Service | undefined>;
  /** what the CLI and tests use, once every service started */
  running(): RunningGateway;
}

/**
 * The composition root: builds every part from the config (constructors only assign) and declares
 * the services in dependency order. Data flows one way: drivers -> hub -> bus -> subscribers;
 * committed buckets and alerts are announced by their owners, never looped back through the hub.
 */
export function compose(env: Environment): Composition {
  const { config, log, clock, bus, store } = env;
  const repos = store.repos;
  const { registry, writer } = repos;
  const hub = new Hub({ registry, writer, bus });
  hub.state.load(repos.lastState());
  const alerts = new AlertService({ store: repos.alerts, bus, log });
  const selfSigned =
    config.mqtt.tls === 'self-signed' || (config.lan.enabled && config.lan.tls === 'self-signed')
      ? new SelfSignedTls(
          config.dataDir,
          () => gatewayNames({ gatewayId: config.gatewayId, extra: config.hostnames, boundHosts: [config.mqtt.host, config.lan.host] }),
          log.child({ component: 'tls' }),
          bus,
        )
      : undefined;
  const rulesLog = log.child({ component: 'rules' });
  const rules = new RuleHost({
    hub,
    bus,
    alerts,
    registry,
    timers: repos.timers,
    clock,
    log: rulesLog,
    options: { timezone: config.timezone, tariffs: config.tariffs, cascadeLimit: config.rules.cascadeLimit, traceLimit: config.rules.traceLimit },
  });
  const ruleFile = new RuleFileWatcher(config.rules.file, rules, rulesLog, join(config.dataDir, 'rules.last-good.json'));
  const deviceAuth = new DeviceAuth(repos.credentials, new AuthThrottle());
  const broker = brokerService({ config, log, clock, hub, bus, repos, deviceAuth, tls: selfSigned });
  const serial = optionalDriver(
    'serial',
    config.serial.length > 0,
    hub,
    log,
    async () => new (await import('../drivers/serial/driver.ts')).SerialDriver(config.serial, () => clock.now()),
  );
  // the configured Bluetooth devices and those the owner adopted from a scan
  const bleDevices = [
    ...config.ble.devices,
    ...repos.bleDevices.list().filter((a) => !config.ble.devices.some((c) => c.address.toUpperCase() === a.address || c.id === a.id)),
  ];
  const ble = optionalDriver(
    'ble',
    config.ble.scan || bleDevices.length > 0,
    hub,
    log,
    async () => new (await import('../drivers/ble/driver.ts')).BleDriver({ ...config.ble, devices: bleDevices }, () => clock.now(), repos.replayCounters),
  );
  // the sampler reads cloud sync's outbox and metering's errors (built below), cloud sync sends its samples
  const health = new HealthSampler({
    dataDir: config.dataDir,
    dbFile: store.file,
    hub,
    registry,
    drivers: () => hub.drivers(),
    outbox: () => cloud.sync?.outbox,
    link: () => cloud.sync?.link.status(),
    meteringErrors: () => metering?.errors ?? 0,
    now: () => clock.now(),
  });
  const cloud = cloudService({ config, log, clock, hub, bus, repos, rules, sampleHealth: () => health.sample() });
  const maintenance = new MaintenanceMonitor({
    thresholds: config.maintenance,
    device: (id) => registry.get(id),
    baselines: new Baselines(repos.usage, hourlyValue),
    bus,
    alerts,
  });
  const backups = new BackupScheduler({ config, configFile: env.configFile, db: () => store.db, log: log.child({ component: 'backup' }), alerts, clock });
  const notifications = new NotificationChannels({
    channels: config.notify.channels.map((c, i) => ({ ...c, name: c.name ?? `${c.type} ${i + 1}` })),
    bus,
    log: log.child({ component: 'notify' }),
    gatewayId: config.gatewayId,
    timeoutMs: config.notify.timeoutMs,
  });
  const metering = meteringService({ config, log, clock, bus, repos, cloud: cloud.sync });
  const lan = lanService({
    config,
    log,
    clock,
    hub,
    bus,
    repos,
    rules,
    ruleFile,
    selfSigned,
    health,
    cloud: cloud.sync,
    advertiser: env.advertiser,
    ble: () => ble.driver() as BleDriver | undefined,
    backups,
    notifications,
    mqtt: () => ({ address: broker.address(), tls: broker.tlsInfo() }),
  });

  const services: Array<Service | undefined> = [
    selfSigned &&
      service(
        'tls',
        () => selfSigned.material().then(() => selfSigned.start()),
        () => selfSigned.stop(),
      ),
    // Rules are checked (on a worker) and active before any driver delivers an event, so none is missed.
    service(
      'rule file',
      () => ruleFile.load(),
      async () => {
        ruleFile.close();
        await ruleFile.settled();
      },
    ),
    // Rules naming a device not known yet are retried when one appears (also those the MQTT driver
    // registers from retained configs as it starts).
    service(
      'rule retry',
      () => bus.on(ruleFile, 'device', () => ruleFile.retryIfFailed()),
      () => bus.off(ruleFile),
    ),
    broker.service,
    serial.service,
    ble.service,
    notifications, // before anything that raises alerts: rules (a start trigger), maintenance, the damage notice
    service(
      'rules',
      () => {
        rules.start();
        ruleFile.watch();
      },
      () => rules.stop(),
    ),
    service(
      'health',
      () => undefined,
      () => health.close(),
    ),
    maintenance,
    metering,
    cloud.service,
    // after cloud sync, so providers granted gateway alerts hear of it too
    store.setAside ? service('damage notice', () => void alerts.raise(damageAlert(store.setAside as string, store.restored, clock.now()))) : undefined,
    lan.service,
    prunerService(config, repos.pruner, log),
    backups,
  ];
  return {
    services,
    running: () => ({
      hub,
      bus,
      alerts,
      registry,
      credentials: repos.credentials,
      writer,
      mqtt: broker.driver(),
      serial: serial.driver(),
      ble: ble.driver(),
      rules,
      ruleFile,
      metering,
      cloud: cloud.sync,
      lan: lan.lan(),
      grants: repos.grants,
      audit: repos.audit,
      db: store.db,
      mqttAddress: broker.address(),
      mqttTls: broker.tlsInfo(),
      clientIds: repos.clientIds,
      tls: selfSigned,
      argon2: env.argon2,
      backups,
      notifications,
    }),
  };
}

function damageAlert(setAside: string, restored: Restored | undefined, at: number) {
  const when = restored && new Date(restored.createdAt).toISOString().replace('T', ' ').slice(0, 16);
  return {
    source: 'gateway' as const,
    severity: 'critical' as const,
    message: restored
      ? `The database was damaged and was set aside as ${setAside}; Trellis restored the backup of ${when} UTC (${restored.file}): ${restored.counts.devices ?? 0} devices, ${restored.counts.credentials ?? 0} device credentials, ${restored.counts.users ?? 0} people, ${restored.counts.grants ?? 0} grants. What changed after that backup is lost; earlier history is in the set-aside file.`
      : `The database was damaged and was set aside as ${setAside}; Trellis started with an empty one. Devices announce themselves again; earlier history is in that file.`,
    at,
  };
}

/** What the bus reports goes to the log (started before the store, stopped after it): refused payloads (rate-limited), devices, failed commits, failed listeners. */
export function logService(bus: GatewayBus, log: Logger): Service {
  const owner = { name: 'log' };
  return service(
    'log',
    () => {
      const hubLog = log.child({ component: 'hub' });
      const storeLog = log.child({ component: 'store' });
      const limiter = new RateLimitedLog();
      bus.on(owner, 'rejected', (r) =>
        limiter.maybe(`${r.deviceId ?? r.source}`, Date.now(), (suppressed) =>
          hubLog.warn({ deviceId: r.deviceId, source: r.source, code: r.code, suppressed }, `rejected payload: ${r.reason}`),
        ),
      );
      bus.on(owner, 'device', (d) => hubLog.debug({ deviceId: d.id, attributes: Object.keys(d.attributes) }, 'device described'));
      bus.on(owner, 'storeError', (err) => storeLog.error({ err }, 'committing readings failed'));
    },
    () => bus.off(owner),
  );
}
