import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The most a rule or config file may hold (the LAN API's limit for a rule text too). */
export const TEXT_FILE_MAX_BYTES = 512 * 1024;

export type TextRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

/**
 * Reads a small text file the owner (or an attacker with write access to its folder) controls: a
 * regular file only (a FIFO would block the reader forever, a device could be endless; it is opened
 * non-blocking and checked with fstat before any read), at most `maxBytes`, UTF-8 without NUL bytes.
 * Never throws: every refusal is a message for a checker problem.
 */
export function readBoundedText(file: string, maxBytes = TEXT_FILE_MAX_BYTES): TextRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { ok: false, message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      return { ok: false, message: `is not a regular file (${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : 'a device or socket'})` };
    if (st.size > maxBytes) return { ok: false, message: `is ${st.size} bytes; at most ${maxBytes} are read` };
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n <= maxBytes; n += got) got = readSync(fd, buf, n, buf.length - n, null); // it may have grown since fstat
    if (n > maxBytes) return { ok: false, message: `is over ${maxBytes} bytes; at most ${maxBytes} are read` };
    const bytes = buf.subarray(0, n);
    if (bytes.includes(0)) return { ok: false, message: 'is not a text file (it contains NUL bytes)' };
    try {
      return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
    } catch {
      return { ok: false, message: 'is not UTF-8 text' };
    }
  } catch (err) {
    return { ok: false, message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    closeSync(fd);
  }
}
