import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { App } from './context.ts';

/** The phone UI's folder (ui/ at the project root, from the sources or from dist/). */
export function uiDir(): string {
  for (const up of ['../..', '../../..']) {
    const dir = join(import.meta.dirname, up, 'ui');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error('the phone UI (ui/index.html) is missing from this install');
}

const require = createRequire(import.meta.url);
/** Libraries the UI imports, served from node_modules (every asset is local; no CDN). */
// A Map, not an object literal: `constructor` or `__proto__` must not find anything.
const VENDOR = new Map<string, { pkg: string; file: string; type: string }>([
  ['preact.mjs', { pkg: 'preact', file: 'preact.module.js', type: 'text/javascript' }],
  ['hooks.mjs', { pkg: 'preact/hooks', file: 'hooks.module.js', type: 'text/javascript' }],
  ['htm.mjs', { pkg: 'htm', file: 'htm.module.js', type: 'text/javascript' }],
  ['uplot.mjs', { pkg: 'uplot', file: 'uPlot.esm.js', type: 'text/javascript' }],
  ['uplot.css', { pkg: 'uplot', file: 'uPlot.min.css', type: 'text/css' }],
]);

export function uiRoutes(app: App): void {
  const cache = new Map<string, Buffer>();
  app.get('/vendor/:file', { schema: { hide: true }, config: { access: 'public' } }, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const entry = VENDOR.get(file);
    if (!entry) return reply.code(404).send({ error: 'not_found', message: `no vendor file ${file.slice(0, 100)}` });
    let body = cache.get(file);
    if (!body) {
      body = readFileSync(join(dirname(require.resolve(entry.pkg)), entry.file)); // next to the package's main file (its dist/)
      cache.set(file, body);
    }
    return reply.type(entry.type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
