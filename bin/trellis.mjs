#!/usr/bin/env -S node --max-semi-space-size=1
// The `trellis` command. Runs the compiled JavaScript, built by `npm ci` (the `prepare` script) and by
// `npm test`: the bundle in dist/bundle/ (scripts/bundle.mjs; a faster start), or dist/ itself when
// the bundle is missing or older than the compiled files it was made from.
import { existsSync, statSync } from 'node:fs';

const compiled = new URL('../dist/gateway/cli/main.js', import.meta.url);
const bundled = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('trellis: dist/ is missing; build it with `npm run build` (npm ci does it too)\n');
  process.exit(1);
}
const fresh = existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs;
if (!fresh) process.stderr.write('trellis: dist/bundle/ is missing or older than dist/; running dist/ (`npm run build` makes both)\n');
const { run } = await import((fresh ? bundled : compiled).href);
await run(process.argv);
