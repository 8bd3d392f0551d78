import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../test/helpers/gatewayProcess.ts';
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3-multiple-ciphers';
import { CredentialStore } from '../gateway/store/credentials.ts';
import { openDb } from '../gateway/store/db.ts';
import { sqliteRetainedConfigs } from '../gateway/store/retainedConfigs.ts';
import { cpuSecondsOf, rssOf, writeBytesOf } from './procStats.ts';
import { projectRoot } from './root.ts';
import { endProcess } from '../firmware-sim/endProcess.ts';
import { GATEWAY_NODE_FLAGS } from '../gateway/runtimeFlags.ts';

/** A broker under test, running as its own process on loopback. */
export interface Target {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Credentials for device i, when the target needs them. */
  credential(i: number): { username?: string; password?: string };
  /**
   * What the target has consumed so far: Trellis, readings committed to SQLite; bare aedes, device
   * publishes ingested. Absent for mosquitto, which is measured by what it relays to a subscriber.
   */
  count?(): number | Promise<number>;
  rssMb(): number;
  /** ms from spawning the process to its broker accepting connections */
  readonly startMs: number;
  /** bytes the process has caused to be written to storage so far (/proc/<pid>/io write_bytes) */
  writeBytes(): number;
  /** CPU seconds (user + system) the process has used so far (/proc/<pid>/stat) */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const ROOT = projectRoot();
/** the benchmarks' own build (tsconfig.dev.json), apart from dist/, which holds only what `trellis` runs */
const DIST = join(ROOT, 'dist-dev');

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

export async function startMosquitto(port: number): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'max_queued_messages 100000',
      'max_inflight_messages 0',
      'log_type error',
      '',
    ].join('\n'),
  );
  const spawnedAt = performance.now();
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, child, 'mosquitto');
  const startMs = performance.now() - spawnedAt;
  return {
    name: 'mosquitto',
    port,
    pid: child.pid as number,
    credential: () => ({}),
    rssMb: () => rssOf(child.pid as number),
    startMs,
    writeBytes: () => writeBytesOf(child.pid as number),
    cpuSeconds: () => cpuSecondsOf(child.pid as number),
    async stop() {
      await endProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startBareAedes(port: number): Promise<Target> {
  // the same V8 flags as the gateway, so RSS compares like with like
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, join(DIST, 'bench', 'bareAedes.js'), String(port)], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    cwd: ROOT,
  });
  await waitForPort(port, child, 'bare aedes');
  const startMs = performance.now() - spawnedAt;
  return {
    name: 'bare aedes',
    port,
    pid: child.pid as number,
    credential: () => ({}),
    count: () =>
      new Promise<number>((resolve) => {
        child.once('message', (n) => resolve(n as number));
        child.send('count');
      }),
    rssMb: () => rssOf(child.pid as number),
    startMs,
    writeBytes: () => writeBytesOf(child.pid as number),
    cpuSeconds: () => cpuSecondsOf(child.pid as number),
    stop: () => endProcess(child),
  };
}

export interface TrellisSetup {
  /** Native configs to register devices with before start (as if they had announced themselves). */
  readonly nativeConfig?: (i: number) => Record<string, unknown>;
  /** A rule file to run. */
  readonly rulesYaml?: string;
  /** where the data directory is made (default: tmpdir(), the disk; '/dev/shm' for tmpfs) */
  readonly dataRoot?: string;
  /** a file the event-loop probe (bench/loopProbe.ts, preloaded) writes its window to on the second SIGUSR2 */
  readonly loopProbe?: string;
}

/** The Trellis gateway process with `devices` credentials issued (argon2id hashes, as in production). */
export async function startTrellis(port: number, devices: number, setup: TrellisSetup = {}): Promise<Target> {
  const dir = mkdtempSync(join(setup.dataRoot ?? tmpdir(), 'trellis-bench-gw-'));
  const dataDir = join(dir, 'data');
  const passwords: string[] = [];
  const db = openDb(join(dataDir, 'trellis.db'), { synchronous: 'full' });
  const store = new CredentialStore(db);
  for (let i = 0; i < devices; i++) passwords.push(await store.create(`dev-${i}`));
  if (setup.nativeConfig) {
    const configs = sqliteRetainedConfigs(db);
    db.transaction(() => {
      for (let i = 0; i < devices; i++) configs.save(`trellis/dev-${i}/config`, `dev-${i}`, JSON.stringify(setup.nativeConfig?.(i)));
    })();
  }
  db.close();
  if (setup.rulesYaml) writeFileSync(join(dir, 'rules.yaml'), setup.rulesYaml);
  const config = join(dir, 'trellis.yaml');
  // TRELLIS_BENCH_CONFIG: extra YAML lines for experiments, e.g. "history:\n  batchSize: 5000"
  const extra = process.env.TRELLIS_BENCH_CONFIG ?? '';
  // the LAN API runs as in production (it costs memory), on a free loopback port
  const lan = ['lan:', '  host: 127.0.0.1', `  port: ${await freePort()}`];
  writeFileSync(
    config,
    [
      `dataDir: ${dataDir}`,
      'mqtt:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      ...lan,
      'log:',
      '  level: warn',
      'rules:',
      `  file: ${join(dir, 'rules.yaml')}`,
      extra,
      '',
    ].join('\n'),
  );
  // e.g. TRELLIS_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway under load
  const nodeArgs = [...GATEWAY_NODE_FLAGS, ...(process.env.TRELLIS_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  if (setup.loopProbe) nodeArgs.push('--import', pathToFileURL(join(DIST, 'bench', 'loopProbe.js')).href);
  const env = setup.loopProbe ? { ...process.env, TRELLIS_LOOP_PROBE: setup.loopProbe } : process.env;
  const logTo = process.env.TRELLIS_BENCH_LOG; // a file for the gateway's log, when debugging a run
  const out = logTo ? openSync(logTo, 'a') : 'ignore';
  const spawnGateway = () =>
    spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'trellis.mjs'), 'start', '--config', config], { stdio: ['ignore', out, out], cwd: ROOT, env });
  if (setup.nativeConfig) {
    // The first start registers the devices from their retained configs; a cold start "with 1,000
    // registered devices" is the next one, a restart.
    // It ends once its rules are active (it keeps a checked copy of them), as a gateway that ran would.
    const first = spawnGateway();
    await waitForPort(port, first, 'trellis');
    if (setup.rulesYaml)
      for (const deadline = Date.now() + 60_000; !existsSync(join(dataDir, 'rules.last-good.json')) && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 50));
    await endProcess(first);
  }
  const spawnedAt = performance.now();
  const child = spawnGateway();
  await waitForPort(port, child, 'trellis');
  const startMs = performance.now() - spawnedAt;
  const reader = () => {
    const file = join(dataDir, 'trellis.db');
    return existsSync(file) ? new Database(file, { readonly: true }) : undefined;
  };
  let counter: Database.Database | undefined;
  return {
    name: 'trellis',
    port,
    pid: child.pid as number,
    credential: (i) => ({ username: `dev-${i}`, password: passwords[i] }),
    count() {
      counter ??= reader();
      return (counter?.prepare('SELECT max(rowid) AS n FROM readings').get() as { n: number | null } | undefined)?.n ?? 0;
    },
    rssMb: () => rssOf(child.pid as number),
    startMs,
    writeBytes: () => writeBytesOf(child.pid as number),
    cpuSeconds: () => cpuSecondsOf(child.pid as number),
    async stop() {
      counter?.close();
      await endProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
