import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { Unzip, UnzipInflate, Zip, ZipDeflate } from 'fflate';

/**
 * The archive inside a sealed backup: a zip (fflate, streamed: a database larger than the memory
 * is never held whole), each file deflated. Entries are flat names; extraction refuses anything else.
 */
export interface ArchiveEntry {
  readonly name: string;
  /** a file on disk, or bytes */
  readonly path?: string;
  readonly bytes?: Uint8Array;
}

/** Streams `entries` as a zip into `write`, awaiting it (the disk) between chunks. */
export async function writeArchive(entries: readonly ArchiveEntry[], write: (chunk: Uint8Array) => Promise<void>): Promise<void> {
  const queue: Uint8Array[] = [];
  let failure: Error | undefined;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else queue.push(chunk);
  });
  const drain = async () => {
    if (failure) throw failure;
    while (queue.length > 0) await write(queue.shift() as Uint8Array);
  };
  for (const e of entries) {
    const file = new ZipDeflate(e.name, { level: 6 });
    zip.add(file);
    if (e.bytes) file.push(e.bytes, true);
    else {
      for await (const chunk of createReadStream(e.path as string, { highWaterMark: 256 * 1024 })) {
        file.push(chunk as Buffer, false);
        await drain();
      }
      file.push(new Uint8Array(0), true);
    }
    await drain();
  }
  zip.end();
  await drain();
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Extracts a zip fed chunk by chunk into `dir` (which the caller made and throws away on failure).
 * Only flat, plain names are written (no `..`, no directories), at most `maxFiles`.
 */
export function archiveExtractor(dir: string, maxFiles = 32): { push(chunk: Uint8Array): Promise<void>; end(): Promise<string[]>; abort(): Promise<void> } {
  const names: string[] = [];
  const open: Array<{ out: WriteStream; done: Promise<unknown> }> = [];
  let failure: Error | undefined;
  const unzip = new Unzip((file) => {
    if (!SAFE_NAME.test(file.name) || basename(file.name) !== file.name || names.includes(file.name) || names.length >= maxFiles) {
      failure = new Error(`the archive holds an entry this Trellis does not write: ${JSON.stringify(file.name.slice(0, 100))}`);
      return;
    }
    names.push(file.name);
    const out = createWriteStream(join(dir, file.name), { flags: 'wx', mode: 0o600 });
    const done = once(out, 'close');
    out.once('error', (err) => (failure = err));
    open.push({ out, done });
    file.ondata = (err, data, final) => {
      if (err) failure = err;
      else if (data.length > 0) out.write(data);
      if (final) out.end();
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  const waitForDisk = async () => {
    for (const { out } of open) if (out.writableNeedDrain) await once(out, 'drain');
  };
  return {
    async push(chunk) {
      if (failure) throw failure;
      unzip.push(chunk, false);
      await waitForDisk();
      if (failure) throw failure;
    },
    async end() {
      unzip.push(new Uint8Array(0), true);
      if (failure) throw failure;
      await Promise.all(open.map((o) => o.done));
      if (failure) throw failure;
      return names;
    },
    /** Closes every file still being written (before the caller removes the directory). */
    async abort() {
      for (const o of open) o.out.destroy();
      await Promise.all(open.map((o) => o.done.catch(() => undefined)));
    },
  };
}
