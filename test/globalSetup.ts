import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Builds dist/ once before any test runs, however vitest was started: tests that spawn `trellis`
 * run the compiled code, and must never run a stale build.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
}
