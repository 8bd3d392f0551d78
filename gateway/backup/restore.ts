import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfigFile, parseConfigText } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { databaseFile } from '../store/db.ts';
import { checkSnapshot } from '../store/snapshot.ts';
import { archiveExtractor } from './archive.ts';
import type { Manifest } from './create.ts';
import { copyMissingDataFiles, fileSha256 } from './files.ts';
import { openSealed } from './envelope.ts';

export interface RestoreReport {
  readonly gatewayId: string;
  readonly createdAt: number;
  readonly history: boolean;
  readonly dataDir: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly auditRows: number;
  /** what was written besides the database: the config file, the rule file, the key, TLS files */
  readonly wrote: readonly string[];
}

const fail = (message: string) => new TrellisError(ErrorCodes.backup, message);

/**
 * Opens a sealed backup into a temporary directory and checks everything in it before anything is
 * put in place: the GCM tag (a damaged or altered file), the manifest's SHA-256 of every file, the
 * database's integrity, its audit log's hash chain and the manifest's row counts. Returns the
 * directory (the caller removes it) and the manifest.
 */
export async function openBackup(file: string, passphrase: string, key: (m: Manifest, dir: string) => string | undefined, workDir: string) {
  // next to where it goes (the SD card), not /tmp: that may be a RAM disk smaller than the database
  mkdirSync(workDir, { recursive: true });
  const dir = mkdtempSync(join(workDir, '.trellis-restore-'));
  const extractor = archiveExtractor(dir);
  try {
    await openSealed(file, passphrase, (chunk) => extractor.push(chunk));
    const names = await extractor.end();
    if (!names.includes('manifest.json')) throw fail(`${file}: the archive has no manifest`);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.format !== 'trellis-backup' || !Array.isArray(manifest.files)) throw fail(`${file}: the manifest is not a Trellis backup's`);
    for (const f of manifest.files) {
      if (!names.includes(f.name)) throw fail(`${file}: ${f.name} is listed but missing`);
      if ((await fileSha256(join(dir, f.name))) !== f.sha256) throw fail(`${file}: ${f.name} does not match its checksum`);
    }
    const extra = names.filter((n) => n !== 'manifest.json' && !manifest.files.some((f) => f.name === n));
    if (extra.length > 0) throw fail(`${file}: files the manifest does not list: ${extra.join(', ')}`);
    if (!names.includes('trellis.db')) throw fail(`${file}: the archive has no database`);
    const checked = checkSnapshot(join(dir, 'trellis.db'), key(manifest, dir), manifest.counts);
    if (!checked.ok) throw fail(`${file}: ${checked.why}`);
    const auditRows = checked.auditRows;
    return { dir, manifest, auditRows };
  } catch (err) {
    await extractor.abort();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `trellis restore FILE --config CONFIG` onto an empty data directory (a new SD card): CONFIG is used
 * if it exists, else the backup's config is written there; its data directory must hold no
 * database. Everything is checked first (openBackup); on any error nothing is written.
 */
export async function restoreBackup(file: string, passphrase: string, configFile: string): Promise<RestoreReport> {
  let config: Readonly<Config> | undefined = existsSync(configFile) ? loadConfigFile(configFile).config : undefined;
  const keyFor = (m: Manifest, dir: string) => {
    const hasKey = m.files.some((f) => f.name === 'database.key');
    const cfg =
      config ?? (existsSync(join(dir, 'config.yaml')) ? parseConfigText(readFileSync(join(dir, 'config.yaml'), 'utf8'), configFile).config : undefined);
    if (hasKey && !cfg?.store.keyFile) throw fail(`the backup's database is encrypted: set store.keyFile in ${configFile} (the key is restored there)`);
    return hasKey ? readFileSync(join(dir, 'database.key'), 'utf8').trim() : undefined;
  };
  const { dir, manifest, auditRows } = await openBackup(file, passphrase, keyFor, dirname(config?.dataDir ?? configFile));
  try {
    const wrote: string[] = [];
    const backupConfig = join(dir, 'config.yaml');
    if (!config) {
      if (!existsSync(backupConfig)) throw fail(`the backup holds no config file: write ${configFile} first (with the dataDir to restore into)`);
      config = parseConfigText(readFileSync(backupConfig, 'utf8'), configFile).config;
    }
    const dataDir = config.dataDir;
    if (existsSync(databaseFile(dataDir)))
      throw fail(`${dataDir} already has a database: a restore goes onto an empty data directory (move it away first; nothing was changed)`);
    const key = join(dir, 'database.key');
    if (config.store.keyFile && existsSync(config.store.keyFile) && existsSync(key)) {
      if (readFileSync(config.store.keyFile, 'utf8').trim() !== readFileSync(key, 'utf8').trim())
        throw fail(`${config.store.keyFile} holds another key than the one the backup's database was encrypted with (nothing was changed)`);
    }
    // everything checked: put it in place
    if (!existsSync(configFile)) {
      mkdirSync(dirname(configFile), { recursive: true });
      copyFileSync(backupConfig, configFile);
      wrote.push(configFile);
    }
    if (config.store.keyFile && !existsSync(config.store.keyFile) && existsSync(key)) {
      mkdirSync(dirname(config.store.keyFile), { recursive: true });
      writeFileSync(config.store.keyFile, readFileSync(key), { mode: 0o600 });
      wrote.push(config.store.keyFile);
    }
    mkdirSync(dataDir, { recursive: true });
    wrote.push(...copyMissingDataFiles(dir, dataDir));
    if (existsSync(join(dir, 'rules.yaml')) && !existsSync(config.rules.file)) {
      mkdirSync(dirname(config.rules.file), { recursive: true });
      copyFileSync(join(dir, 'rules.yaml'), config.rules.file);
      wrote.push(config.rules.file);
    }
    copyFileSync(join(dir, 'trellis.db'), databaseFile(dataDir)); // last: its presence means "restored"
    return { gatewayId: manifest.gatewayId, createdAt: manifest.createdAt, history: manifest.history, dataDir, counts: manifest.counts, auditRows, wrote };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Backup files in a directory, newest first (by the time in their names, as the scheduler writes them). */
export function backupsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^trellis-.+-\d{8}T\d{6}(\d{3})?Z\.tbk$/.test(n))
    .sort()
    .reverse()
    .map((n) => join(dir, n));
}
