import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { GatewayBus } from '../core/events.ts';
import type { Logger } from '../log.ts';
import { AuditLog } from './audit.ts';
import { Grants } from './grants.ts';
import { AlertStore } from './alerts.ts';
import { ClientIdStore } from './clientIds.ts';
import { CredentialStore, DEVICE_HASH_OPTIONS } from './credentials.ts';
import { databaseFile, openDb, storeOptions, type Db } from './db.ts';
import { HistoryWriter } from './historyWriter.ts';
import { openOrSetAside } from './recover.ts';
import { DeviceRegistry } from './registry.ts';
import { sqliteRetainedConfigs } from './retainedConfigs.ts';
import { RetentionPruner } from './retention.ts';
import { TimerStore } from './timers.ts';
import { WalSync, offLoopWrites, type WriteRunner } from './walSync.ts';
import { PasswordHasher, type Argon2Gate } from '../auth/passwordHasher.ts';
import type { ReplayCounters, RetainedConfigStore } from '../../drivers/types.ts';
import { PersistentCounters } from './counters.ts';
import { UsageStore } from './usage.ts';
import { CommandLog } from './commandLog.ts';
import { type Restored, restoreNewestBackup } from '../backup/recoverFromBackup.ts';
import { BleDeviceStore, sqliteReplayCounters } from './bleDevices.ts';
import { DeviceMetaStore } from './deviceMeta.ts';
import { PrefsStore } from './prefs.ts';
import { HistoryQueries } from './historyQueries.ts';
import { HouseholdData } from './householdData.ts';
import { People } from './people.ts';
import { Outbox } from './outbox.ts';
import { storedState, type StoredState } from './lastValues.ts';

export interface StoreDeps {
  readonly config: Readonly<Config>;
  readonly bus: GatewayBus;
  readonly clock: Clock;
  readonly log: Logger;
  /** where every argon2 check of a device or person waits its turn */
  readonly argon2: Argon2Gate;
}

/**
 * The storage service: opens (or sets aside a damaged) SQLite file, migrates it, and holds the one
 * repository that owns each table. Nothing outside `gateway/store/` prepares SQL; services get the
 * repositories they need from here. Started first, stopped last (after every writer is quiet).
 */
export class Store {
  readonly name = 'store';
  readonly #d: StoreDeps;
  #db: Db | undefined;
  #repos: Repositories | undefined;
  /** the file a damaged database was moved to at this start, if it was */
  setAside: string | undefined;
  /** the automatic backup put in place of that damaged database, if one was */
  restored: Restored | undefined;

  constructor(deps: StoreDeps) {
    this.#d = deps;
  }

  async start(): Promise<void> {
    if (this.#db) return;
    const { config, log, clock } = this.#d;
    const file = databaseFile(config.dataDir);
    let { db, setAside } = openOrSetAside(file, storeOptions(config.store), () => clock.now());
    if (setAside) {
      // with automatic backups, the newest good one replaces the empty database just made
      db.close();
      this.restored = await restoreNewestBackup(config, log);
      db = openDb(file, storeOptions(config.store));
      if (!this.restored) log.error({ setAside }, 'the database was damaged: set aside, starting with an empty one');
    }
    this.#db = db;
    this.setAside = setAside;
    try {
      this.#repos = repositories(db, this.#d, (err) => log.error({ err }, 'syncing the database failed'));
      this.#repos.registry.resetOnline(); // nobody is connected yet
      this.#repos.registry.load();
      this.#repos.writer.catchUp();
    } catch (err) {
      db.close();
      this.#db = undefined;
      throw err;
    }
  }

  /** Commits what is pending and closes the file. */
  stop(): void {
    const db = this.#db;
    if (!db) return;
    const repos = this.#repos;
    this.#db = undefined;
    this.#repos = undefined;
    try {
      repos?.clientIds.flush();
      repos?.writer.close();
    } finally {
      db.close(); // whatever failed above, the file is closed (what was committed is safe)
    }
  }

  get repos(): Repositories {
    if (!this.#repos) throw new Error('the store is not open');
    return this.#repos;
  }

  /** The raw connection, for tests, the CLI's diagnostics and the privacy tools under `store/`. */
  get db(): Db {
    if (!this.#db) throw new Error('the store is not open');
    return this.#db;
  }

  get file(): string {
    return databaseFile(this.#d.config.dataDir);
  }
}

/** One owner per table (README: "Tables and their owners"). */
export interface Repositories {
  readonly registry: DeviceRegistry;
  readonly writer: HistoryWriter;
  readonly credentials: CredentialStore;
  readonly clientIds: ClientIdStore;
  readonly alerts: AlertStore;
  readonly timers: TimerStore;
  readonly retainedConfigs: RetainedConfigStore;
  readonly grants: Grants;
  readonly audit: AuditLog;
  readonly pruner: RetentionPruner;
  readonly counters: PersistentCounters;
  readonly usage: UsageStore;
  readonly commandLog: CommandLog;
  readonly deviceMeta: DeviceMetaStore;
  readonly bleDevices: BleDeviceStore;
  readonly replayCounters: ReplayCounters;
  readonly prefs: PrefsStore;
  readonly history: HistoryQueries;
  readonly household: HouseholdData;
  readonly people: People;
  readonly outbox: Outbox;
  /** each attribute's last stored value (the state cache starts from them) */
  readonly lastState: () => StoredState[];
  /** registrations and bindings written off the loop's critical path (fsynced on the thread pool with `full`) */
  readonly offLoop: WriteRunner;
}

function repositories(db: Db, d: StoreDeps, syncFailed: (err: Error) => void): Repositories {
  const { config, bus, clock } = d;
  // with `full`, history and registrations are fsynced on the thread pool (see WalSync)
  const walSync = config.store.synchronous === 'full' ? new WalSync(`${db.name}-wal`) : undefined;
  const offLoop = offLoopWrites(db, walSync, syncFailed);
  const now = () => clock.now();
  const registry = new DeviceRegistry(db, offLoop, now);
  const writer = new HistoryWriter(db, registry, {
    flushMs: config.history.flushMs,
    ackBatch: { minBatch: config.history.ackMinBatch, maxWaitMs: config.history.ackMaxWaitMs },
    batchSize: config.history.batchSize,
    lastValuesEveryMs: config.history.lastValuesEveryS * 1000,
    walSync,
    bus,
  });
  const credentials = new CredentialStore(db, new PasswordHasher(d.argon2, DEVICE_HASH_OPTIONS), now);
  const counters = new PersistentCounters(db);
  const deviceMeta = new DeviceMetaStore(db);
  return {
    registry,
    writer,
    credentials,
    clientIds: new ClientIdStore(db, (name) => credentials.get(name) !== undefined, offLoop, now),
    alerts: new AlertStore(db),
    timers: new TimerStore(db),
    retainedConfigs: sqliteRetainedConfigs(db, offLoop, now),
    grants: new Grants(db, now, bus, deviceMeta),
    audit: new AuditLog(db, now),
    pruner: new RetentionPruner(db, 2000, now),
    counters,
    usage: new UsageStore(db, registry, counters),
    commandLog: new CommandLog(db),
    deviceMeta,
    bleDevices: new BleDeviceStore(db),
    replayCounters: sqliteReplayCounters(db, offLoop),
    prefs: new PrefsStore(db),
    history: new HistoryQueries(db),
    household: new HouseholdData(db),
    people: new People(db, new PasswordHasher(d.argon2), now, bus),
    outbox: new Outbox(db, { gatewayId: config.gatewayId, maxBytes: config.cloud.outboxMaxBytes, now }),
    lastState: () => storedState(db),
    offLoop,
  };
}
