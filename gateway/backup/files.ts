import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files of the data directory a restored gateway needs besides its database: its TLS identity (devices pin its CA). */
export const DATA_FILES = ['tls-ca-cert.pem', 'tls-ca-key.pem', 'tls-cert.pem', 'tls-key.pem', 'rules.last-good.json'] as const;

/** A file's SHA-256, hex, read in chunks (a database may be larger than the memory). */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A passphrase file's text without its final newline (editors add one; it is no part of the passphrase). */
export const readPassphraseFile = (path: string): string => readFileSync(path, 'utf8').replace(/\r?\n$/, '');

/** Copies the DATA_FILES `from` has into `to` where `to` has none yet; the paths written. */
export function copyMissingDataFiles(from: string, to: string): string[] {
  const wrote: string[] = [];
  for (const f of DATA_FILES) {
    if (!existsSync(join(from, f)) || existsSync(join(to, f))) continue;
    copyFileSync(join(from, f), join(to, f));
    wrote.push(join(to, f));
  }
  return wrote;
}
