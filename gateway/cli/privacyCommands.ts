import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { Outbox } from '../store/outbox.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { AuditLog } from '../store/audit.ts';
import { exportArchive } from '../store/dataExport.ts';
import { eraseHistory, factoryReset } from '../store/erase.ts';
import { DATA_CLASSES, Grants, type DataClass, grantAudit } from '../store/grants.ts';
import { databaseFile, databaseKey, openDb, storeOptions, type Db } from '../store/db.ts';
import { resolveConfig } from './resolveConfig.ts';

const ACTOR = 'owner:cli';

function withDb<T>(configFile: string | undefined, fn: (db: Db, rulesFile: string, dataDir: string) => T): T {
  const { config } = resolveConfig(configFile);
  const db = openDb(databaseFile(config.dataDir), storeOptions(config.store));
  try {
    return fn(db, config.rules.file, config.dataDir);
  } finally {
    db.close();
  }
}

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

function parseDate(text: string, what: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new TrellisError(ErrorCodes.config, `${what}: expected a date like 2027-01-31 or 2027-01-31T12:00:00Z, got "${text}"`);
  return t;
}

export function runGrantList(opts: { config?: string; json?: boolean; all?: boolean }): void {
  withDb(opts.config, (db) => {
    const grants = new Grants(db).list(opts.all ?? false);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(grants, null, 2)}\n`);
      return;
    }
    if (grants.length === 0) process.stdout.write('No grants: no service provider receives anything (default deny).\n');
    for (const g of grants) {
      const state = g.revokedAt ? `revoked ${new Date(g.revokedAt).toISOString()}` : g.expiresAt && g.expiresAt <= Date.now() ? 'expired' : 'active';
      process.stdout.write(
        `#${g.id} ${g.providerId} (${state}): devices ${g.devices.join(', ')}; data ${g.classes.join(', ') || 'none'}; commands ${g.commands.join(', ') || 'none'}; ${g.identity ? 'real device ids' : 'pseudonyms'}${g.expiresAt ? `; until ${new Date(g.expiresAt).toISOString()}` : ''}\n`,
      );
    }
  });
}

export function runGrantAdd(opts: {
  config?: string;
  provider: string;
  name?: string;
  devices: string;
  classes?: string;
  commands?: string;
  identity?: boolean;
  expires?: string;
}): void {
  withDb(opts.config, (db) => {
    const classes = list(opts.classes);
    const bad = classes.find((c) => !DATA_CLASSES.includes(c as DataClass));
    if (bad) throw new TrellisError(ErrorCodes.config, `--classes: unknown data class "${bad}" (one of ${DATA_CLASSES.join(', ')})`);
    const g = new Grants(db).add({
      providerId: opts.provider,
      providerName: opts.name,
      devices: list(opts.devices),
      classes: classes as DataClass[],
      commands: list(opts.commands),
      identity: opts.identity ?? false,
      expiresAt: opts.expires ? parseDate(opts.expires, '--expires') : null,
    });
    new AuditLog(db).append(ACTOR, 'grant.add', g.providerId, grantAudit(g));
    process.stdout.write(`Grant #${g.id} for ${g.providerId} added.\n`);
  });
}

export function runGrantRevoke(id: string, opts: { config?: string }): void {
  withDb(opts.config, (db) => {
    const grants = new Grants(db);
    const outbox = new Outbox(db, { gatewayId: '-', maxBytes: Number.MAX_SAFE_INTEGER, now: Date.now });
    const g = grants.revoke(Number(id));
    if (!g) throw new TrellisError(ErrorCodes.auth, `no active grant #${id}`);
    outbox.purge(g.providerId, (cls, deviceId) => grants.stillCovers(g.providerId, cls, deviceId));
    new AuditLog(db).append(ACTOR, 'grant.revoke', g.providerId, { grant: g.id });
    process.stdout.write(`Grant #${g.id} for ${g.providerId} revoked; its queued, unsent records are purged.\n`);
  });
}

export function runAuditVerify(opts: { config?: string }): void {
  withDb(opts.config, (db) => {
    const result = new AuditLog(db).verify();
    if (result.ok) {
      process.stdout.write(`audit log intact: ${result.rows} rows\n`);
      return;
    }
    process.stdout.write(`audit log BROKEN at row ${result.id}: ${result.reason}\n`);
    process.exitCode = 1;
  });
}

export function runExport(opts: { config?: string; out: string }): void {
  withDb(opts.config, (db, rulesFile) => {
    const zip = exportArchive(db, rulesFile);
    writeFileSync(opts.out, zip);
    new AuditLog(db).append(ACTOR, 'export', null, { bytes: zip.byteLength, file: opts.out });
    process.stdout.write(`wrote ${opts.out} (${zip.byteLength} bytes)\n`);
  });
}

export function runErase(opts: { config?: string; device?: string; before?: string }): void {
  withDb(opts.config, (db) => {
    const scope = { deviceId: opts.device, before: opts.before ? parseDate(opts.before, '--before') : undefined };
    const r = eraseHistory(db, scope);
    new AuditLog(db).append(ACTOR, 'erase', opts.device ?? null, { ...scope, ...r });
    process.stdout.write(
      `erased ${r.readings} readings, ${r.events} device events, ${r.usageBuckets} usage buckets${opts.device ? ` of ${opts.device}` : ''}${opts.before ? ` before ${opts.before}` : ''}; the file is vacuumed\n`,
    );
  });
}

export function runFactoryReset(opts: { config?: string; yes?: boolean }): void {
  if (!opts.yes)
    throw new TrellisError(
      ErrorCodes.config,
      'factory-reset erases every device, reading, rule timer, person, grant and key: run it again with --yes (stop the gateway first)',
    );
  const { config } = resolveConfig(opts.config);
  // the encryption key is a secret too: a reset makes a new one
  if (config.store.keyFile && existsSync(config.store.keyFile)) rmSync(config.store.keyFile);
  const proof = factoryReset(config.dataDir, (file) => openDb(file, { synchronous: 'full', key: databaseKey(config.store.keyFile) }));
  const nonEmpty = Object.entries(proof.counts).filter(([, n]) => n > 0);
  process.stdout.write(
    [
      `removed: ${proof.removed.join(', ') || 'nothing (no data yet)'}`,
      `user rows left: ${nonEmpty.length === 0 ? 'none' : nonEmpty.map(([t, n]) => `${t}=${n}`).join(', ')} (${Object.keys(proof.counts).length} tables checked)`,
      `database file: ${proof.bytes} bytes, vacuumed`,
      '',
    ].join('\n'),
  );
  if (nonEmpty.length > 0) process.exitCode = 1;
}
