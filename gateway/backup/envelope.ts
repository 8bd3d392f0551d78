import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { once } from 'node:events';
import { ErrorCodes, TrellisError } from '../errors.ts';

/**
 * The sealed backup file: one line of JSON (the header: format, KDF parameters, salt, IV, a
 * passphrase check, what is inside), then the archive encrypted with AES-256-GCM, then GCM's 16-byte
 * tag. The key comes from the passphrase through scrypt; the header is GCM's additional data, so
 * changing a byte of it fails like changing a byte of the archive. A wrong passphrase is told apart
 * from a damaged file by the check value (an HMAC of a fixed text under a second derived key).
 */
export const MAGIC = 'trellis-backup';
const VERSION = 1;
const MAX_HEADER = 4096;
const TAG_BYTES = 16;
const CHECK_TEXT = 'trellis-backup passphrase check';
/** scrypt N = 2^16, r = 8: 64 MiB and about a quarter of a second on a Pi 4 per open */
const KDF = { name: 'scrypt', N: 65536, r: 8, p: 1 } as const;

export interface BackupHeader {
  readonly magic: typeof MAGIC;
  readonly v: number;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: string };
  readonly iv: string;
  readonly check: string;
  readonly createdAt: number;
  readonly gatewayId: string;
  readonly history: boolean;
}

const damaged = (file: string, why: string) => new TrellisError(ErrorCodes.backup, `${file}: not a usable Trellis backup: ${why}`);

function deriveKeys(passphrase: string, kdf: BackupHeader['kdf']): Promise<{ key: Buffer; check: Buffer }> {
  if (passphrase.length < 8) throw new TrellisError(ErrorCodes.backup, 'the backup passphrase must have at least 8 characters');
  return new Promise((resolve, reject) =>
    scrypt(passphrase, Buffer.from(kdf.salt, 'base64'), 64, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * 1024 * 1024 }, (err, out) =>
      err ? reject(err) : resolve({ key: out.subarray(0, 32), check: out.subarray(32) }),
    ),
  );
}

const checkValue = (checkKey: Buffer) => createHmac('sha256', checkKey).update(CHECK_TEXT).digest();

/** A writable sealed file: `write` archive bytes (awaiting when the disk is behind), then `finish`. */
export async function createSealed(
  file: string,
  passphrase: string,
  about: { gatewayId: string; history: boolean; createdAt: number },
): Promise<{ write(chunk: Uint8Array): Promise<void>; finish(): Promise<void>; abort(): void }> {
  const kdf = { ...KDF, salt: randomBytes(16).toString('base64') };
  const { key, check } = await deriveKeys(passphrase, kdf);
  const iv = randomBytes(12);
  const header: BackupHeader = { magic: MAGIC, v: VERSION, kdf, iv: iv.toString('base64'), check: checkValue(check).toString('base64'), ...about };
  const line = Buffer.from(`${JSON.stringify(header)}\n`);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(line);
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  const put = async (bytes: Uint8Array) => {
    if (bytes.length > 0 && !out.write(bytes)) await Promise.race([once(out, 'drain'), failed]);
  };
  await put(line);
  return {
    write: (chunk) => put(cipher.update(chunk)),
    async finish() {
      await put(cipher.final());
      await put(cipher.getAuthTag());
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
      await Promise.race([once(out, 'close'), failed]);
    },
    abort: () => out.destroy(),
  };
}

/** Reads and checks a backup's header (no passphrase needed: it holds nothing secret). */
export function readHeader(file: string): { header: BackupHeader; headerBytes: number; size: number } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(MAX_HEADER, size));
    readSync(fd, buf, 0, buf.length, 0);
    const end = buf.indexOf(0x0a);
    if (end < 0) throw damaged(file, 'no header (is it a Trellis backup?)');
    let header: BackupHeader;
    try {
      header = JSON.parse(buf.subarray(0, end).toString('utf8')) as BackupHeader;
    } catch {
      throw damaged(file, 'the header is not JSON');
    }
    if (header?.magic !== MAGIC) throw damaged(file, 'it does not start like a Trellis backup');
    if (header.v !== VERSION) throw damaged(file, `format version ${String(header.v)}; this Trellis reads version ${VERSION}`);
    const k = header.kdf;
    if (k?.name !== 'scrypt' || ![k.N, k.r, k.p].every((x) => Number.isInteger(x) && x > 0) || k.N > 2 ** 20 || k.r > 16 || k.p > 4)
      throw damaged(file, 'unknown or out-of-range key derivation parameters');
    if (size < end + 1 + TAG_BYTES) throw damaged(file, 'it is cut short');
    return { header, headerBytes: end + 1, size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Decrypts a sealed file, handing the archive's bytes to `onChunk` as they come. The caller must
 * treat them as unverified until this resolves: a wrong passphrase rejects before any byte, a damaged
 * or altered file rejects at the end (GCM's tag), so nothing may be put in place before that.
 */
export async function openSealed(file: string, passphrase: string, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<BackupHeader> {
  const { header, headerBytes, size } = readHeader(file);
  const { key, check } = await deriveKeys(passphrase, header.kdf);
  const expected = Buffer.from(header.check, 'base64');
  const actual = checkValue(check);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    throw new TrellisError(ErrorCodes.backup, `${file}: the passphrase is not the one this backup was made with`);
  const fd = openSync(file, 'r');
  const tag = Buffer.alloc(TAG_BYTES);
  const line = Buffer.alloc(headerBytes);
  try {
    readSync(fd, tag, 0, TAG_BYTES, size - TAG_BYTES);
    readSync(fd, line, 0, headerBytes, 0);
  } finally {
    closeSync(fd);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(line);
  decipher.setAuthTag(tag);
  if (size - TAG_BYTES > headerBytes) {
    for await (const chunk of createReadStream(file, { start: headerBytes, end: size - TAG_BYTES - 1 })) {
      const plain = decipher.update(chunk as Buffer);
      if (plain.length > 0) await onChunk(plain);
    }
  }
  try {
    const last = decipher.final();
    if (last.length > 0) await onChunk(last);
  } catch {
    throw damaged(file, 'it is damaged or was altered (its authentication tag does not match)');
  }
  return header;
}
