import { resolve } from 'node:path';
import { createBackup } from '../backup/create.ts';
import { readPassphraseFile } from '../backup/files.ts';
import { restoreBackup } from '../backup/restore.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { databaseFile, databaseKey, openDb, storeOptions } from '../store/db.ts';
import { VERSION } from '../version.ts';
import { resolveConfig } from './resolveConfig.ts';

/** The passphrase from `--passphrase-file`, else from the config's `backup.passphraseFile`. */
export function readPassphrase(file: string | undefined, fromConfig: string | undefined): string {
  const path = file ?? fromConfig;
  if (!path) throw new TrellisError(ErrorCodes.backup, 'no passphrase: give --passphrase-file FILE, or set backup.passphraseFile in the config');
  try {
    return readPassphraseFile(path);
  } catch (err) {
    throw new TrellisError(ErrorCodes.backup, `${path}: cannot read the passphrase file (${(err as Error).message})`);
  }
}

const day = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 16);
const counted = (c: Readonly<Record<string, number>>) =>
  `${c.devices ?? 0} devices, ${c.credentials ?? 0} device credentials, ${c.users ?? 0} people, ${c.grants ?? 0} grants, ${c.audit_log ?? 0} audit entries, ${c.usage_buckets ?? 0} usage buckets, ${c.readings ?? 0} readings`;

export async function runBackup(opts: { config?: string; out: string; passphraseFile?: string; history?: boolean }): Promise<void> {
  const { config, source } = resolveConfig(opts.config);
  const passphrase = readPassphrase(opts.passphraseFile, config.backup.passphraseFile);
  const db = openDb(databaseFile(config.dataDir), storeOptions(config.store));
  try {
    const history = opts.history ?? config.backup.history;
    const m = await createBackup(
      {
        db,
        dataDir: config.dataDir,
        gatewayId: config.gatewayId,
        version: VERSION,
        configFile: source,
        rulesFile: config.rules.file,
        keyFile: config.store.keyFile,
      },
      resolve(opts.out),
      passphrase,
      { history, now: Date.now(), key: databaseKey(config.store.keyFile) },
    );
    process.stdout.write(`Backup written to ${resolve(opts.out)}: ${counted(m.counts)}${history ? '' : ' (raw history left out: --history puts it in)'}.\n`);
  } finally {
    db.close();
  }
}

export async function runRestore(file: string, opts: { config: string; passphraseFile?: string }): Promise<void> {
  const configFile = resolve(opts.config);
  let fromConfig: string | undefined;
  try {
    fromConfig = resolveConfig(configFile).config.backup.passphraseFile;
  } catch {
    fromConfig = undefined; // a new SD card: the config comes out of the backup
  }
  const r = await restoreBackup(resolve(file), readPassphrase(opts.passphraseFile, fromConfig), configFile);
  process.stdout.write(
    `Restored the backup of gateway ${r.gatewayId} made ${day(r.createdAt)} UTC into ${r.dataDir}: ${counted(r.counts)}; audit log intact (${r.auditRows} rows).\n` +
      (r.wrote.length > 0 ? `Also written: ${r.wrote.join(', ')}.\n` : '') +
      `Start it with: trellis start --config ${configFile}\n`,
  );
}
