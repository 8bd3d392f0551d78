import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Builds dist/ and its bundle (what `trellis` runs) and dist-dev/ (the benchmarks and soak, which spawned tests run)
 * once before any test runs, however vitest was started: tests that spawn `trellis` run the compiled
 * code, and must never run a stale build.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const project of ['tsconfig.build.json', 'tsconfig.dev.json']) {
    const r = spawnSync(process.execPath, [tsc, '-p', join(root, project)], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building ${project} failed:\n${r.stdout}${r.stderr}`);
  }
  // the bundle `trellis` runs (bin/trellis.mjs falls back to dist/ when it is older than dist/)
  const bundle = spawnSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, encoding: 'utf8' });
  if (bundle.status !== 0) throw new Error(`bundling dist/ failed:\n${bundle.stdout}${bundle.stderr}`);
}
