import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Db } from '../store/db.ts';
import { snapshotDatabase } from '../store/snapshot.ts';
import { type ArchiveEntry, writeArchive } from './archive.ts';
import { createSealed } from './envelope.ts';
import { DATA_FILES, fileSha256 } from './files.ts';

export interface BackupSources {
  /** the gateway's open database (a snapshot is taken with SQLite's online backup: the gateway keeps running) */
  readonly db: Db;
  readonly dataDir: string;
  readonly gatewayId: string;
  readonly version: string;
  /** the config file, as written (absent for a config given in code) */
  readonly configFile?: string | undefined;
  readonly rulesFile: string;
  /** `store.keyFile`: its key goes in, so a restored encrypted database opens */
  readonly keyFile?: string | undefined;
}

export interface Manifest {
  readonly format: 'trellis-backup';
  readonly gatewayId: string;
  readonly createdAt: number;
  readonly trellisVersion: string;
  readonly schemaVersion: number;
  readonly history: boolean;
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: number; readonly sha256: string }>;
  /** row counts of the tables a restore is checked against */
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * Writes one sealed backup file: a consistent snapshot of the database (without raw history unless
 * asked), the config and rule files, the TLS identity, the database key, and a manifest with each
 * file's SHA-256 and the row counts. Written to a temporary name and renamed, so `out` is either the
 * whole backup or absent. Returns the manifest.
 */
export async function createBackup(
  src: BackupSources,
  out: string,
  passphrase: string,
  o: { history: boolean; now: number; key?: string | undefined },
): Promise<Manifest> {
  if (existsSync(out)) throw new Error(`${out} exists: a backup is never written over a file`);
  const work = mkdtempSync(join(dirname(out), '.trellis-backup-'));
  const partial = join(dirname(out), `.${basename(out)}.partial`);
  try {
    const snapshot = join(work, 'trellis.db');
    const { counts, schemaVersion } = await snapshotDatabase(src.db, snapshot, { key: o.key, history: o.history });
    const entries: ArchiveEntry[] = [{ name: 'trellis.db', path: snapshot }];
    if (src.configFile && existsSync(src.configFile)) entries.push({ name: 'config.yaml', path: src.configFile });
    if (existsSync(src.rulesFile)) entries.push({ name: 'rules.yaml', path: src.rulesFile });
    if (src.keyFile && existsSync(src.keyFile)) entries.push({ name: 'database.key', path: src.keyFile });
    for (const f of DATA_FILES) if (existsSync(join(src.dataDir, f))) entries.push({ name: f, path: join(src.dataDir, f) });
    const files = [];
    for (const e of entries) files.push({ name: e.name, bytes: statSync(e.path as string).size, sha256: await fileSha256(e.path as string) });
    const manifest: Manifest = {
      format: 'trellis-backup',
      gatewayId: src.gatewayId,
      createdAt: o.now,
      trellisVersion: src.version,
      schemaVersion,
      history: o.history,
      files,
      counts,
    };
    rmSync(partial, { force: true });
    const sealed = await createSealed(partial, passphrase, { gatewayId: src.gatewayId, history: o.history, createdAt: o.now });
    try {
      await writeArchive([{ name: 'manifest.json', bytes: Buffer.from(JSON.stringify(manifest, null, 2)) }, ...entries], (c) => sealed.write(c));
      await sealed.finish();
    } catch (err) {
      sealed.abort();
      throw err;
    }
    renameSync(partial, out);
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}
