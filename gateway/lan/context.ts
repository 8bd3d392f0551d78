import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { RuleFileWatcher } from '../automation/ruleFile.ts';
import type { RuleHost } from '../automation/ruleHost.ts';
import type { Clock } from '../clock.ts';
import type { HealthData } from '../../protocol/index.ts';
import type { CloudLinkStatus } from '../cloud/link.ts';
import type { GatewayBus } from '../core/events.ts';
import type { Hub } from '../hub.ts';
import type { AlertStore } from '../store/alerts.ts';
import type { DeviceMetaStore } from '../store/deviceMeta.ts';
import type { HistoryQueries } from '../store/historyQueries.ts';
import type { HouseholdData } from '../store/householdData.ts';
import type { HistoryWriter } from '../store/historyWriter.ts';
import type { DeviceRegistry } from '../store/registry.ts';
import type { People, Session } from '../store/people.ts';
import type { Access } from './auth.ts';
import type { AuthThrottle } from '../auth/throttle.ts';
import type { AuditLog } from '../store/audit.ts';
import type { Grants } from '../store/grants.ts';
import type { BleDriver } from '../../drivers/ble/driver.ts';
import type { BleDeviceStore } from '../store/bleDevices.ts';
import type { BackupScheduler } from '../backup/schedule.ts';
import type { NotificationChannels } from '../notify/channels.ts';
import type { PrefsStore } from '../store/prefs.ts';
import type { CredentialStore } from '../store/credentials.ts';
import type { Broker } from './deviceSetup.ts';
import type { Config } from '../config/schema.ts';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** What the LAN API's routes read and drive. */
export interface LanContext {
  readonly deviceMeta: DeviceMetaStore;
  readonly history: HistoryQueries;
  /** export and erase */
  readonly household: HouseholdData;
  /** commands and the state cache */
  readonly hub: Hub;
  /** live events for the phone's WebSocket */
  readonly bus: GatewayBus;
  readonly alerts: AlertStore;
  readonly registry: DeviceRegistry;
  readonly writer: HistoryWriter;
  readonly rules: RuleHost;
  readonly ruleFile: RuleFileWatcher;
  readonly rulesFile: string;
  readonly people: People;
  /** failed sign-ins and pairings: slowed, then refused, per address and name */
  readonly throttle: AuthThrottle;
  readonly grants: Grants;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** the Bluetooth driver, when it runs (devices set up, or scanning) */
  readonly ble: () => BleDriver | undefined;
  /** `ble.scan`: whether nearby devices are listed for adoption */
  readonly bleScan: boolean;
  readonly bleDevices: BleDeviceStore;
  readonly backups: BackupScheduler;
  readonly notifications: NotificationChannels;
  readonly prefs: PrefsStore;
  /** device credentials (the app's "add a device") */
  readonly credentials: CredentialStore;
  /** where a device reaches the broker, given the host name the phone reached the gateway by */
  readonly broker: (phoneHost: string) => Broker;
  /** what the energy view prices with */
  readonly energyConfig: Pick<Config, 'timezone' | 'tariffs' | 'energy'>;
  /** the data directory (downloads are staged there, on the same disk, never in /tmp) */
  readonly dataDir: string;
  readonly version: string;
  /** the current health, without starting a new measuring window (the cloud's periodic record owns that) */
  readonly peekHealth: () => HealthData;
  readonly cloudStatus: () => CloudLinkStatus | undefined;
  /** where the phone should go to pair, e.g. http://192.168.1.20:8080 */
  readonly publicUrl: () => string;
}

declare module 'fastify' {
  interface FastifyRequest {
    session: Session | undefined;
  }
  interface FastifyContextConfig {
    /** Who may call the route: `public` (anyone, no token) or the least role. Undeclared: nobody. */
    access?: Access;
  }
}
