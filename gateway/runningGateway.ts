import type { NotificationChannels } from './notify/channels.ts';
import type { BackupScheduler } from './backup/schedule.ts';
import type { MqttDriver } from '../drivers/mqtt/driver.ts';
import type { Driver } from '../drivers/types.ts';
import type { AlertService } from './alerts.ts';
import type { Argon2Gate } from './auth/passwordHasher.ts';
import type { RuleFileWatcher } from './automation/ruleFile.ts';
import type { RuleHost } from './automation/ruleHost.ts';
import type { CloudSync } from './cloud/sync.ts';
import type { GatewayBus } from './core/events.ts';
import type { Hub } from './hub.ts';
import type { LanService } from './lan/service.ts';
import type { MeteringService } from './metering/service.ts';
import type { SelfSignedTls } from './net/selfSigned.ts';
import type { AuditLog } from './store/audit.ts';
import type { Grants } from './store/grants.ts';
import type { ClientIdStore } from './store/clientIds.ts';
import type { CredentialStore } from './store/credentials.ts';
import type { Db } from './store/db.ts';
import type { HistoryWriter } from './store/historyWriter.ts';
import type { DeviceRegistry } from './store/registry.ts';

/** The parts of a running gateway that the CLI, the demo and tests use. */
export interface RunningGateway {
  readonly hub: Hub;
  readonly bus: GatewayBus;
  readonly alerts: AlertService;
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
  /** the raw database, for tests and diagnostics only: the gateway's own code asks the repositories */
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
  /** automatic backups (and "back up now") */
  readonly backups: BackupScheduler;
  /** alerts to webhooks and ntfy */
  readonly notifications: NotificationChannels;
}
