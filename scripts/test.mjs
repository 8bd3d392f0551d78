#!/usr/bin/env node
// Runs every test once with vitest and prints the closing line CI reads: "N passed, N failed".
// Exits non-zero when any test failed, was skipped without a reason, or the run itself broke.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const report = join(root, '.vitest-report.json');
rmSync(report, { force: true });
// Type check everything (tests included); a type error counts as one failed check. The build of
// dist/ that spawned gateways run happens in vitest's global setup (test/globalSetup.ts).
const tscBin = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const check = spawnSync(process.execPath, [tscBin, '--noEmit', '-p', root], { cwd: root, stdio: 'inherit' });
// Formatting and lint (Biome, biome.json): a violation counts as one failed check.
const biomeBin = join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
const style = spawnSync(process.execPath, [biomeBin, 'ci', '--reporter=summary', '.'], { cwd: root, stdio: 'inherit' });
const typeErrors = (check.status === 0 ? 0 : 1) + (style.status === 0 ? 0 : 1);
console.log(check.status === 0 ? 'typecheck: ok' : 'typecheck: FAILED');
console.log(style.status === 0 ? 'format and lint: ok' : 'format and lint: FAILED (npx biome check --write . fixes the format)');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
if (!existsSync(report)) {
  console.log(`0 passed, ${1 + typeErrors} failed`);
  console.error(`vitest wrote no report (exit status ${result.status})`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(report, 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of r.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else skipped++;
  }
  // A file that failed to load (syntax error, failing hook) has no assertions but must fail the run.
  if ((file.assertionResults ?? []).length === 0 && file.status === 'failed') failed++;
}
failed += typeErrors;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || result.status !== 0 || passed === 0 ? 1 : 0);
