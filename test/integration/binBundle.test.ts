import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/**
 * `trellis` runs the esbuild bundle of dist/ (dist/bundle/, scripts/bundle.mjs) when it is at least as
 * new as dist/, and dist/ itself otherwise, saying so: a `tsc` run without the bundle step must never
 * leave the command running yesterday's code.
 */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** A copy of bin/trellis.mjs over a dist/ and a bundle that each say which they are. */
function tree(bundleAgeS: number | undefined): string {
  const root = dirs.make('trellis-bin-');
  mkdirSync(join(root, 'bin'));
  copyFileSync(BIN, join(root, 'bin', 'trellis.mjs'));
  const entry = (what: string) => `export async function run(argv) { process.stdout.write('${what} ' + argv.slice(2).join(' ')); }\n`;
  mkdirSync(join(root, 'dist', 'gateway', 'cli'), { recursive: true });
  const compiled = join(root, 'dist', 'gateway', 'cli', 'main.js');
  writeFileSync(compiled, entry('dist'));
  const now = Date.now() / 1000;
  utimesSync(compiled, now, now);
  if (bundleAgeS !== undefined) {
    mkdirSync(join(root, 'dist', 'bundle'));
    const bundled = join(root, 'dist', 'bundle', 'main.js');
    writeFileSync(bundled, entry('bundle'));
    utimesSync(bundled, now - bundleAgeS, now - bundleAgeS);
  }
  return root;
}

const run = (root: string) => spawnSync(process.execPath, [join(root, 'bin', 'trellis.mjs'), 'start', '-c', 'x.yaml'], { encoding: 'utf8' });

describe('which build `trellis` runs', () => {
  it('runs the bundle when it is as new as dist/, with the arguments', () => {
    const r = run(tree(0));
    expect(r.stdout).toBe('bundle start -c x.yaml');
    expect(r.stderr).toBe('');
  });

  it('runs dist/ when the bundle is older than it, or missing, and says so', () => {
    for (const root of [tree(60), tree(undefined)]) {
      const r = run(root);
      expect(r.stdout).toBe('dist start -c x.yaml');
      expect(r.stderr).toMatch(/dist\/bundle\/ is missing or older than dist\/; running dist\//);
    }
  });

  it("this checkout's build is bundled and fresh: the real command runs the bundle", () => {
    const r = spawnSync(process.execPath, [BIN, 'check-config', join(import.meta.dirname, '..', '..', 'deploy', 'trellis.yaml')], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/running dist\//);
    expect(r.status, r.stderr).toBe(0);
  });
});
