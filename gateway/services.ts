import { MqttDriver } from '../drivers/mqtt/driver.ts';
import type { Driver } from '../drivers/types.ts';
import type { DeviceAuth } from './auth/deviceAuth.ts';
import { AuthThrottle } from './auth/throttle.ts';
import type { RuleFileWatcher } from './automation/ruleFile.ts';
import type { BleDriver } from '../drivers/ble/driver.ts';
import type { BackupScheduler } from './backup/schedule.ts';
import type { NotificationChannels } from './notify/channels.ts';
import type { RuleHost } from './automation/ruleHost.ts';
import type { Clock } from './clock.ts';
import type { HealthData } from '../protocol/index.ts';
import { CloudSync } from './cloud/sync.ts';
import type { Config } from './config/schema.ts';
import type { GatewayBus } from './core/events.ts';
import { service, type Service } from './core/lifecycle.ts';
import type { HealthSampler } from './health.ts';
import type { Hub } from './hub.ts';
import type { Advertiser, LanService } from './lan/service.ts';
import { RateLimitedLog, type Logger } from './log.ts';
import { MeteringService } from './metering/service.ts';
import { fileMaterial, type TlsMaterial } from './net/certificates.ts';
import type { SelfSignedTls } from './net/selfSigned.ts';
import type { Repositories } from './store/store.ts';
import { VERSION } from './version.ts';

/*
 * The services whose construction depends on the config (a part switched off is no service) or
 * waits for material only a started service has (TLS). Each returns its service and the part it runs.
 */

const DAY_MS = 86_400_000;

/** What every service here is built from. */
export interface ServiceEnv {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly hub: Hub;
  readonly bus: GatewayBus;
  readonly repos: Repositories;
}

export function brokerService(
  p: ServiceEnv & {
    deviceAuth: DeviceAuth;
    tls: SelfSignedTls | undefined;
  },
) {
  const { config } = p;
  const mqttLog = p.log.child({ component: 'mqtt' });
  let driver: MqttDriver | undefined;
  let material: TlsMaterial | undefined;
  const violations = new RateLimitedLog();
  return {
    service: service(
      'mqtt',
      async () => {
        material =
          config.mqtt.tls === 'off'
            ? undefined
            : config.mqtt.tls === 'files'
              ? fileMaterial(config.mqtt.cert as string, config.mqtt.key as string)
              : await (p.tls as SelfSignedTls).material();
        const mqtt = new MqttDriver({
          broker: {
            host: config.mqtt.host,
            port: config.mqtt.port,
            allowAnonymous: config.mqtt.allowAnonymous,
            maxPacketBytes: config.mqtt.maxPacketBytes,
            maxTopicLevels: config.mqtt.maxTopicLevels,
            maxInflight: config.mqtt.maxInflight,
            plain: config.mqtt.plain,
            tls: material ? { port: config.mqtt.tlsPort, cert: material.cert, key: material.key } : undefined,
          },
          maxPayloadBytes: config.mqtt.maxPayloadBytes,
          authenticate: (username, password, source) => p.deviceAuth.authenticate(username, password, source),
          claimClientId: (clientId, name, anonymous) => p.repos.clientIds.claim(clientId, name, anonymous),
          configs: p.repos.retainedConfigs,
          now: () => p.clock.now(),
          onViolation: (who, kind, detail) =>
            violations.maybe(`${who ?? '?'}:${kind}`, Date.now(), (suppressed) => mqttLog.warn({ deviceId: who, kind, suppressed }, `refused: ${detail}`)),
        });
        driver = mqtt;
        p.hub.addDriver(mqtt);
        await mqtt.start(p.hub);
        const tlsAddress = mqtt.tlsAddress;
        mqttLog.info(
          { host: (mqtt.address ?? tlsAddress)?.host, port: mqtt.address?.port, tlsPort: tlsAddress?.port, fingerprint: material?.fingerprint },
          'mqtt broker listening',
        );
        if (config.mqtt.tls === 'self-signed') p.bus.on(mqtt, 'tlsRenewed', (m) => mqtt.updateTls(m));
      },
      async () => {
        if (driver) p.bus.off(driver);
        await driver?.stop();
      },
    ),
    driver: () => driver as MqttDriver,
    address: () => (driver?.address ?? driver?.tlsAddress) as { host: string; port: number },
    tlsInfo: () => {
      const a = driver?.tlsAddress;
      return a && material ? { ...a, fingerprint: material.fingerprint, caFingerprint: material.caFingerprint } : undefined;
    },
  };
}

/** A driver loaded only when configured (serialport and dbus-next cost memory). */
export function optionalDriver(name: string, configured: boolean, hub: Hub, log: Logger, load: () => Promise<Driver>) {
  let driver: Driver | undefined;
  return {
    service: configured
      ? service(
          name,
          async () => {
            driver = await load();
            hub.addDriver(driver);
            await driver.start(hub);
            log.child({ component: name }).info('driver started');
          },
          () => driver?.stop(),
        )
      : undefined,
    driver: () => driver,
  };
}

export function cloudService(p: ServiceEnv & { rules: RuleHost; sampleHealth: () => HealthData }) {
  const { config } = p;
  const url = config.cloud.url;
  const cloudLog = p.log.child({ component: 'cloud' });
  const sync = url
    ? new CloudSync({
        config: { ...config.cloud, url },
        gatewayId: config.gatewayId,
        version: VERSION,
        outbox: p.repos.outbox,
        commandLog: p.repos.commandLog,
        hub: p.hub,
        bus: p.bus,
        registry: p.repos.registry,
        clock: p.clock,
        log: cloudLog,
        safety: config.safety.limits,
        protectedWriter: (d, a) => p.rules.protectedWriter(d, a),
        sampleHealth: p.sampleHealth,
        grants: p.repos.grants,
        audit: p.repos.audit,
        usage: p.repos.usage,
        history: p.repos.history,
        timeZone: config.timezone,
        tags: (id) => p.repos.deviceMeta.tags(id),
      })
    : undefined;
  return {
    sync,
    service: sync
      ? service(
          'cloud',
          () => {
            sync.start();
            cloudLog.info({ url }, 'cloud sync configured');
          },
          () => sync.stop(),
        )
      : undefined,
  };
}

/** Hourly usage buckets (a service itself), when `metering.enabled`. */
export function meteringService(p: Omit<ServiceEnv, 'hub'> & { cloud: CloudSync | undefined }): MeteringService | undefined {
  return p.config.metering.enabled
    ? new MeteringService({
        store: p.repos.usage,
        registry: p.repos.registry,
        bus: p.bus,
        writer: p.repos.writer,
        clock: p.clock,
        log: p.log.child({ component: 'metering' }),
        timeZone: p.config.timezone,
        overrides: p.config.metering.attributes,
        usageQueue: p.cloud,
      })
    : undefined;
}

export function lanService(
  p: ServiceEnv & {
    rules: RuleHost;
    ruleFile: RuleFileWatcher;
    selfSigned: SelfSignedTls | undefined;
    health: HealthSampler;
    cloud: CloudSync | undefined;
    advertiser: (() => Promise<Advertiser>) | undefined;
    ble: () => BleDriver | undefined;
    backups: BackupScheduler;
    notifications: NotificationChannels;
    /** the broker's plain and TLS listeners once started */
    mqtt: () => { address: { host: string; port: number }; tls: { port: number; caFingerprint: string | undefined } | undefined };
  },
) {
  const { config } = p;
  let lan: LanService | undefined;
  return {
    lan: () => lan,
    service: config.lan.enabled
      ? service(
          'lan',
          async () => {
            // Loaded only when on: fastify and its plugins cost memory.
            const { LanService } = await import('./lan/service.ts');
            lan = new LanService({
              config: config.lan,
              dataDir: config.dataDir,
              gatewayId: config.gatewayId,
              hostnames: config.hostnames,
              selfSigned: p.selfSigned,
              bus: p.bus,
              log: p.log.child({ component: 'lan' }),
              advertiser: p.advertiser,
              context: {
                deviceMeta: p.repos.deviceMeta,
                history: p.repos.history,
                household: p.repos.household,
                hub: p.hub,
                bus: p.bus,
                alerts: p.repos.alerts,
                registry: p.repos.registry,
                writer: p.repos.writer,
                rules: p.rules,
                ruleFile: p.ruleFile,
                rulesFile: config.rules.file,
                people: p.repos.people,
                throttle: new AuthThrottle(),
                grants: p.repos.grants,
                audit: p.repos.audit,
                clock: p.clock,
                ble: p.ble,
                bleScan: config.ble.scan,
                bleDevices: p.repos.bleDevices,
                backups: p.backups,
                notifications: p.notifications,
                prefs: p.repos.prefs,
                credentials: p.repos.credentials,
                broker: (phoneHost) => {
                  const { address, tls } = p.mqtt();
                  const wildcard = ['0.0.0.0', '::', ''].includes(config.mqtt.host);
                  const host = wildcard ? phoneHost : config.mqtt.host;
                  return {
                    host,
                    port: address.port,
                    tls: tls && { port: tls.port, caUrl: `${lan?.url ?? ''}/ca.pem`, caFingerprint: tls.caFingerprint },
                  };
                },
                energyConfig: { timezone: config.timezone, tariffs: config.tariffs, energy: config.energy },
                dataDir: config.dataDir,
                version: VERSION,
                peekHealth: () => p.health.peek(),
                cloudStatus: () => p.cloud?.link.status(),
              },
            });
            await lan.start();
          },
          () => lan?.stop(),
        )
      : undefined,
  };
}

export function prunerService(config: Readonly<Config>, pruner: Repositories['pruner'], log: Logger): Service {
  const storeLog = log.child({ component: 'store' });
  return service(
    'pruner',
    () =>
      pruner.schedule(
        config.history.retentionDays * DAY_MS,
        3_600_000,
        (err) => storeLog.error({ err }, 'pruning history failed'),
        config.metering.retentionDays * DAY_MS,
      ),
    () => pruner.stop(),
  );
}
