import type { RuleHost } from './automation/ruleHost.ts';
import type { Clock } from './clock.ts';
import type { HealthData } from './cloud/payloads.ts';
import { CloudSync } from './cloud/sync.ts';
import type { Config } from './config/schema.ts';
import type { Hub } from './hub.ts';
import type { Logger } from './log.ts';
import { Baselines } from './maintenance/baselines.ts';
import { MaintenanceMonitor, hourlyValue } from './maintenance/monitor.ts';
import { MeteringService, type StoredBucket } from './metering/service.ts';
import type { Db } from './store/db.ts';
import type { HistoryWriter } from './store/historyWriter.ts';
import type { DeviceRegistry } from './store/registry.ts';
import { VERSION } from './version.ts';
import type { AuditLog } from './privacy/audit.ts';
import type { Grants } from './privacy/grants.ts';

export interface Usage {
  readonly metering: MeteringService | undefined;
  readonly cloud: CloudSync | undefined;
}

export interface UsageDeps {
  readonly config: Readonly<Config>;
  readonly db: Db;
  readonly hub: Hub;
  readonly registry: DeviceRegistry;
  readonly writer: HistoryWriter;
  readonly rules: RuleHost;
  readonly log: Logger;
  readonly clock: Clock;
  readonly health: () => HealthData;
  readonly grants: Grants;
  readonly audit: AuditLog;
}

/** Metering, maintenance signals and cloud sync: buckets and signals flow into the cloud outbox. */
export function startUsage(p: UsageDeps): Usage {
  const config = p.config;
  const url = config.cloud.url;
  const cloudLog = p.log.child({ component: 'cloud' });
  const cloud = url
    ? new CloudSync({
        config: { ...config.cloud, url },
        gatewayId: config.gatewayId,
        version: VERSION,
        db: p.db,
        hub: p.hub,
        registry: p.registry,
        clock: p.clock,
        log: cloudLog,
        safety: config.safety.limits,
        protectedWriter: (d, a) => p.rules.protectedWriter(d, a),
        health: p.health,
        grants: p.grants,
        audit: p.audit,
      })
    : undefined;
  const maintenance = new MaintenanceMonitor({
    thresholds: config.maintenance,
    device: (id) => p.registry.get(id),
    baselines: new Baselines(p.db, hourlyValue),
    signal: (data) => cloud?.maintenance(data),
    alert: (a) => p.hub.alert(a),
  });
  p.hub.on('event', (e) => maintenance.onEvent(e));
  let metering: MeteringService | undefined;
  if (config.metering.enabled) {
    metering = new MeteringService({
      db: p.db,
      registry: p.registry,
      hub: p.hub,
      writer: p.writer,
      clock: p.clock,
      log: p.log.child({ component: 'metering' }),
      timeZone: config.timezone,
      overrides: config.metering.attributes,
      onBuckets: (buckets: readonly StoredBucket[]) => {
        cloud?.usage(buckets);
        // Signals raise alerts, which write outside this transaction: run them after it commits.
        setImmediate(() => {
          try {
            maintenance.onBuckets(buckets);
          } catch (err) {
            p.log.error({ err }, 'maintenance signals failed'); // e.g. the gateway stopped meanwhile
          }
        });
      },
    });
    metering.start();
  }
  cloud?.start();
  if (url) cloudLog.info({ url }, 'cloud sync configured');
  return { metering, cloud };
}
