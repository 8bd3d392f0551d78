import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { databaseFile } from '../store/db.ts';
import { copyMissingDataFiles, readPassphraseFile } from './files.ts';
import { backupsIn, openBackup } from './restore.ts';

export interface Restored {
  readonly file: string;
  readonly createdAt: number;
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * After a damaged database was set aside at start: puts the newest automatic backup that opens and
 * passes every check in its place (and TLS files that are missing), trying older ones when one
 * fails. Undefined when automatic backups are off or none is usable: the gateway starts empty, as
 * before. Never with an encrypted database (that is never set aside).
 */
export async function restoreNewestBackup(config: Readonly<Config>, log: Logger): Promise<Restored | undefined> {
  const { dir, passphraseFile, restoreOnDamage } = config.backup;
  if (!restoreOnDamage || !dir || !passphraseFile || config.store.keyFile) return undefined;
  let passphrase: string;
  try {
    passphrase = readPassphraseFile(passphraseFile);
  } catch (err) {
    log.error({ err }, `cannot read backup.passphraseFile ${passphraseFile}: no backup restored`);
    return undefined;
  }
  const target = databaseFile(config.dataDir);
  for (const file of backupsIn(dir)) {
    try {
      const opened = await openBackup(file, passphrase, () => undefined, dirname(config.dataDir));
      try {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
        copyFileSync(join(opened.dir, 'trellis.db'), target);
        copyMissingDataFiles(opened.dir, config.dataDir);
        log.warn(
          { backup: file, createdAt: new Date(opened.manifest.createdAt).toISOString() },
          'restored the newest good backup in place of the damaged database',
        );
        return { file, createdAt: opened.manifest.createdAt, counts: opened.manifest.counts };
      } finally {
        rmSync(opened.dir, { recursive: true, force: true });
      }
    } catch (err) {
      log.error({ err, backup: file }, 'a backup could not be used; trying an older one');
    }
  }
  return undefined;
}
