import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { FleetApp } from './context.ts';

/** The console's folder (fleet/console, from the sources or from dist/). */
export function consoleDir(): string {
  for (const up of ['..', '../../../fleet']) {
    const dir = join(import.meta.dirname, up, 'console');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error('the fleet console (fleet/console/index.html) is missing from this install');
}

const require = createRequire(import.meta.url);
/** Libraries the console imports, served from node_modules (every asset is local; no CDN). A Map: `__proto__` finds nothing. */
const VENDOR = new Map<string, { pkg: string; file: string }>([
  ['preact.mjs', { pkg: 'preact', file: 'preact.module.js' }],
  ['hooks.mjs', { pkg: 'preact/hooks', file: 'hooks.module.js' }],
  ['htm.mjs', { pkg: 'htm', file: 'htm.module.js' }],
  ['uplot.mjs', { pkg: 'uplot', file: 'uPlot.esm.js' }],
  ['uplot.css', { pkg: 'uplot', file: 'uPlot.min.css' }],
]);

/** The console's own files and libraries: public (they hold no data; the API behind them needs a token). */
export async function consoleRoutes(app: FleetApp): Promise<void> {
  const cache = new Map<string, Buffer>();
  app.get('/vendor/:file', { schema: { hide: true }, config: { allow: 'public' } }, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const entry = VENDOR.get(file);
    if (!entry) return reply.code(404).send({ error: 'not_found', message: `no vendor file ${file.slice(0, 100)}` });
    let body = cache.get(file);
    if (!body) {
      body = readFileSync(join(dirname(require.resolve(entry.pkg)), entry.file));
      cache.set(file, body);
    }
    return reply
      .type(file.endsWith('.css') ? 'text/css' : 'text/javascript')
      .header('cache-control', 'public, max-age=86400')
      .send(body);
  });
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), allow: 'public' } as typeof route.config;
    });
    await scope.register(fastifyStatic, { root: consoleDir(), prefix: '/', wildcard: false });
  });
}

/** The CSP: only the fleet's own scripts, styles and API, plus the console's one inline script (its import map) by hash. */
export function consoleCsp() {
  const html = readFileSync(join(consoleDir(), 'index.html'), 'utf8');
  const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (map === undefined) throw new Error('fleet/console/index.html has no import map');
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", `'sha256-${createHash('sha256').update(map).digest('base64')}'`],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  };
}
