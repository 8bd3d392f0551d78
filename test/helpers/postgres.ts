import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './gatewayProcess.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface TempPostgres {
  readonly url: string;
  /** a fast shutdown and start again on the same port and data (what a database failover or upgrade does to its clients); this process runs on meanwhile */
  restart(): Promise<void>;
  stop(): void;
}

/**
 * Debian's PostgreSQL 15 in a temporary cluster on 127.0.0.1 (ENVIRONMENT.md): initdb as the
 * `postgres` user (PostgreSQL refuses root), trust auth for the `trellis` role, stopped and removed by `stop()`.
 * `settings` are server settings (`-c name=value`), e.g. the benchmarks' `track_commit_timestamp`.
 */
export async function startPostgres(settings: Readonly<Record<string, string>> = {}): Promise<TempPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pg-'));
  chmodSync(dir, 0o755);
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const run = (cmd: string, args: string[]) => {
    const r = asPostgres
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args], { encoding: 'utf8' })
      : spawnSync(join(BIN, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  const port = await freePort();
  try {
    run('initdb', ['-D', join(dir, 'db'), '-A', 'trust', '-U', 'trellis']);
    run('pg_ctl', [
      '-D',
      join(dir, 'db'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${Object.entries(settings)
        .map(([k, v]) => ` -c ${k}=${v}`)
        .join('')}`,
      '-l',
      join(dir, 'log'),
      '-w',
      'start',
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    url: `postgres://trellis@127.0.0.1:${port}/postgres`,
    restart() {
      // -l: without it the restarted server would write to our pipe, and we would wait for it forever
      const args = ['-D', join(dir, 'db'), '-l', join(dir, 'log'), '-m', 'fast', '-w', 'restart'];
      const [cmd, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), ...args]] : [join(BIN, 'pg_ctl'), args];
      return new Promise((resolve, reject) =>
        execFile(cmd as string, argv as string[], (err, _out, stderr) =>
          err ? reject(new Error(`pg_ctl restart failed: ${stderr || err.message}`)) : resolve(),
        ),
      );
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', join(dir, 'db'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
