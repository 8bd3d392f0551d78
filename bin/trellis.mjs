#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `npx trellis ...` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../gateway/cli/main.ts');
await run(process.argv);
