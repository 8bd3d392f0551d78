#!/usr/bin/env -S node --max-semi-space-size=1
// The `trellis` command. Runs the compiled JavaScript in dist/ (built by `npm ci` through the
// `prepare` script, and by `npm test`); without dist/ it runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/gateway/cli/main.js', import.meta.url);
let run;
if (existsSync(compiled)) {
  ({ run } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ run } = await import('../gateway/cli/main.ts'));
}
await run(process.argv);
