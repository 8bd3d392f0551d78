import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetDb } from '../../fleet/db/fleetDb.ts';

/**
 * A database whose tables live on a tmpfs of `sizeMb` (a PostgreSQL tablespace on its own small
 * filesystem: what a disk quota for the database does), with a ballast file to fill it to the last
 * byte and to free it again. The WAL stays on the cluster's own disk. Mounting needs root (the CI
 * runs as root; ENVIRONMENT.md).
 */
export interface DiskQuota {
  /** the database's URL (the cluster's, with this database's name) */
  readonly url: string;
  /** fills the filesystem: the next write that needs a new block fails with ENOSPC */
  fill(): void;
  /** frees what fill() took */
  free(): void;
  /** drop the database first (or stop the cluster): unmounts and removes the mount point */
  unmount(): void;
}

export async function diskQuota(admin: FleetDb, clusterUrl: string, name: string, sizeMb: number): Promise<DiskQuota> {
  if (process.getuid?.() !== 0) throw new Error('the disk quota fault mounts a tmpfs, which needs root (run the suite as root, as CI does)');
  const dir = mkdtempSync(join(tmpdir(), 'trellis-quota-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
  const ballast = join(dir, 'ballast');
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    const space = join(dir, 'space');
    mkdirSync(space);
    chownSync(dir, id('-u'), id('-g'));
    chownSync(space, id('-u'), id('-g'));
    await admin.query(`CREATE TABLESPACE ${name} LOCATION '${space}'`);
    await admin.query(`CREATE DATABASE ${name} TABLESPACE ${name}`);
  } catch (err) {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: clusterUrl.replace(/\/[^/]*$/, `/${name}`),
    fill() {
      const fd = openSync(ballast, 'a');
      const chunk = Buffer.alloc(1 << 20);
      try {
        for (;;) {
          const { bavail, bsize } = statfsSync(dir);
          if (bavail === 0) break;
          writeSync(fd, chunk, 0, Math.min(chunk.length, bavail * bsize));
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(ballast, { force: true });
    },
    unmount() {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
