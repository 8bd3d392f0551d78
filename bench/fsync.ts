import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantile } from './figures.ts';

/**
 * One fsync on the disk the benchmarks' data lives on (the directory tmpdir() gives, as the gateway's
 * data dir): the median of `n` appends of a WAL frame's size, each followed by fdatasync.
 */
export function fsyncP50Ms(n = 200, dir = tmpdir()): number {
  const where = mkdtempSync(join(dir, 'trellis-bench-fsync-'));
  const fd = openSync(join(where, 'wal'), 'a');
  const frame = Buffer.alloc(1048, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(fd, frame);
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(where, { recursive: true, force: true });
  }
  return quantile(
    times.sort((a, b) => a - b),
    0.5,
  );
}
