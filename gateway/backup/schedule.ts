import { mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Cron } from 'croner';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Service } from '../core/lifecycle.ts';
import type { Logger } from '../log.ts';
import type { AlertSink } from '../alerts.ts';
import { databaseKey, type Db } from '../store/db.ts';
import { VERSION } from '../version.ts';
import { createBackup, type Manifest } from './create.ts';
import { readPassphraseFile } from './files.ts';
import { backupsIn } from './restore.ts';

export interface BackupStatus {
  readonly enabled: boolean;
  readonly dir: string | null;
  readonly nextAt: number | null;
  readonly lastAt: number | null;
  readonly lastError: string | null;
  readonly kept: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
}

export interface BackupSchedulerDeps {
  readonly config: Readonly<Config>;
  /** the config file, copied into each backup */
  readonly configFile: string | undefined;
  readonly db: () => Db;
  readonly log: Logger;
  readonly alerts: AlertSink;
  readonly clock: Clock;
}

/** 20261201T031700123Z: to the millisecond, so a run by hand in the same second as a scheduled one gets its own name */
const stamp = (t: number) => new Date(t).toISOString().replace(/[-:.]/g, '');

/**
 * Automatic backups (`backup.dir` and `backup.passphraseFile` set): on `backup.schedule` (cron, in
 * the gateway's time zone) a sealed backup `trellis-<gateway>-<UTC time>.tbk` is written there and
 * all but the newest `backup.keep` are removed. A failure raises a warning alert and is retried at
 * the next time; one run at a time.
 */
export class BackupScheduler implements Service {
  readonly name = 'backup';
  readonly #d: BackupSchedulerDeps;
  #cron: Cron | undefined;
  #running: Promise<Manifest> | undefined;
  #lastAt: number | null = null;
  #lastError: string | null = null;

  constructor(d: BackupSchedulerDeps) {
    this.#d = d;
  }

  get enabled(): boolean {
    return Boolean(this.#d.config.backup.dir && this.#d.config.backup.passphraseFile);
  }

  start(): void {
    if (!this.enabled || this.#cron) return;
    const { schedule } = this.#d.config.backup;
    this.#cron = new Cron(schedule, { timezone: this.#d.config.timezone, protect: true }, () => {
      void this.runNow().catch(() => undefined); // reported inside
    });
  }

  stop(): Promise<unknown> | undefined {
    this.#cron?.stop();
    this.#cron = undefined;
    return this.#running?.catch(() => undefined);
  }

  /** Writes one backup into `backup.dir` now and prunes; the same as a scheduled run. */
  runNow(): Promise<Manifest> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<Manifest> {
    const { config, log, alerts, clock } = this.#d;
    const dir = config.backup.dir as string;
    const now = clock.now();
    try {
      const passphrase = readPassphraseFile(config.backup.passphraseFile as string);
      mkdirSync(dir, { recursive: true });
      const out = join(dir, `trellis-${config.gatewayId}-${stamp(now)}.tbk`);
      const m = await this.write(out, passphrase, config.backup.history);
      for (const old of backupsIn(dir).slice(config.backup.keep)) rmSync(old, { force: true });
      this.#lastAt = now;
      this.#lastError = null;
      log.info({ backup: out, bytes: statSync(out).size }, 'backup written');
      return m;
    } catch (err) {
      this.#lastError = (err as Error).message;
      log.error({ err }, 'the automatic backup failed');
      alerts.raise({ source: 'gateway', severity: 'warning', message: `The automatic backup to ${dir} failed: ${(err as Error).message}`, at: now });
      throw err;
    }
  }

  /** One sealed backup of this gateway at `out` (the app's download, and each scheduled run). */
  write(out: string, passphrase: string, history: boolean): Promise<Manifest> {
    const { config, configFile, db, clock } = this.#d;
    return createBackup(
      {
        db: db(),
        dataDir: config.dataDir,
        gatewayId: config.gatewayId,
        version: VERSION,
        configFile,
        rulesFile: config.rules.file,
        keyFile: config.store.keyFile,
      },
      out,
      passphrase,
      { history, now: clock.now(), key: databaseKey(config.store.keyFile) },
    );
  }

  status(): BackupStatus {
    const dir = this.#d.config.backup.dir ?? null;
    return {
      enabled: this.enabled,
      dir,
      nextAt: this.#cron?.nextRun()?.getTime() ?? null,
      lastAt: this.#lastAt,
      lastError: this.#lastError,
      kept: dir ? backupsIn(dir).map((f) => ({ name: basename(f), bytes: statSync(f).size })) : [],
    };
  }
}
