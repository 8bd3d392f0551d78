#!/usr/bin/env node
// Bundles what `trellis` runs (dist/gateway/cli/main.js, compiled by tsc) into dist/bundle/: one file
// per command and shared chunks, with the libraries on the path to serving (zod, yaml, aedes, pino,
// commander) inside. Node then resolves and reads a dozen files at start instead of ~400: the
// gateway's cold start. Native addons, what reads its own package's files at run time (fastify's
// plugins, swagger UI, pino-pretty) and what only other commands use stay in node_modules; zod's
// type provider for fastify is inside, so that it and our schemas share one zod.
// bin/trellis.mjs runs the bundle when it is there and dist/ otherwise.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundle');
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'gateway', 'cli', 'main.js'), join(root, 'dist', 'gateway', 'automation', 'ruleWorker.js')],
  entryNames: '[name]',
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [
    'better-sqlite3-multiple-ciphers',
    '@node-rs/argon2',
    'serialport',
    '@serialport/*',
    'node-ble',
    'dbus-next',
    'fastify',
    '@fastify/*',
    'pino-pretty',
    'tsx',
    'mqtt',
    'pg',
    '@electric-sql/pglite',
    'bonjour-service',
    'selfsigned',
    'prom-client',
  ],
  // CommonJS libraries inside an ES module bundle still call require() for Node's own modules
  banner: { js: "import { createRequire as __trellisRequire } from 'node:module';\nconst require = __trellisRequire(import.meta.url);" },
  logLevel: 'warning',
});
