#!/usr/bin/env node
// The `trellis-fleet` command. Runs the compiled JavaScript in dist/, built by `npm ci` (the `prepare`
// script) and by `npm test`.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/fleet/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('trellis-fleet: dist/ is missing; build it with `npm run build` (npm ci does it too)\n');
  process.exit(1);
}
const { run } = await import(compiled.href);
await run(process.argv);
