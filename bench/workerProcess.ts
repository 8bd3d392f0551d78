// An ingest worker as its own process, as a provider runs it: `trellis-fleet start` on the bench's
// PostgreSQL and mosquitto, its API on a free loopback port.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudBroker } from '../firmware-sim/cloud/cloudBroker.ts';
import { rssOf } from './procStats.ts';
import { projectRoot } from './root.ts';

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** its API's address, from what it prints when it starts */
  readonly apiUrl: string;
  /** its resident set now, from /proc/<pid>/status */
  rssMb(): number;
  /** SIGTERM (it leaves the shared group and lets what it holds commit), then its files are removed */
  stop(): Promise<void>;
}

export async function startWorkerProcess(pgUrl: string, broker: CloudBroker, id: string, group: string): Promise<WorkerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-worker-'));
  writeFileSync(join(dir, 'password'), 'cool\n');
  writeFileSync(
    join(dir, 'fleet.yaml'),
    [
      'provider: coolco',
      `dataDir: ${join(dir, 'data')}`,
      `database: {url: "${pgUrl}"}`,
      `broker: {url: "${broker.passwordUrl}", username: coolco, passwordFile: ${join(dir, 'password')}, ca: ${broker.certs.ca}, protocolVersion: 5}`,
      `worker: {id: ${id}, group: ${group}}`,
      'api: {host: 127.0.0.1, port: 0}',
      'checks: {everySeconds: 3600, gapsEverySeconds: 86400}',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [join(projectRoot(), 'bin', 'trellis-fleet.mjs'), 'start', '-c', join(dir, 'fleet.yaml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRELLIS_FLEET_LOG: 'warn' },
  });
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  };
  let apiUrl: string;
  try {
    apiUrl = await started(child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, apiUrl, rssMb: () => rssOf(child.pid as number), stop };
}

/** Resolves with the API's address once the process says it serves. */
function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`trellis-fleet start did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const api = /Trellis Fleet coolco: API (http:\/\/\S+?)\/?(\s|$)/.exec(out);
      if (api) {
        clearTimeout(timer);
        resolve(api[1] as string);
      }
    });
    child.stderr?.on('data', (b: Buffer) => void (out += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trellis-fleet start exited ${code}: ${out}`));
    });
  });
}
