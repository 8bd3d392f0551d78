#!/usr/bin/env -S node --max-semi-space-size=1
// The `trellis` command. Runs the compiled JavaScript in dist/, built by `npm ci` (the `prepare`
// script) and by `npm test`.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/gateway/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('trellis: dist/ is missing; build it with `npm run build` (npm ci does it too)\n');
  process.exit(1);
}
const { run } = await import(compiled.href);
await run(process.argv);
