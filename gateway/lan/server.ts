import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance, type RouteOptions } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from '../log.ts';
import type { HostCheck } from '../net/names.ts';
import { accessHook, type Access } from './auth.ts';
import type { App, LanContext } from './context.ts';
import { eventStream } from './events.ts';
import { EventTickets } from './tickets.ts';
import { deviceRoutes } from './routes/devices.ts';
import { peopleRoutes } from './routes/people.ts';
import { ruleRoutes } from './routes/rules.ts';
import { backupRoutes } from './routes/backup.ts';
import { notifyRoutes } from './routes/notify.ts';
import { energyRoutes } from './routes/energy.ts';
import { prefsRoutes } from './routes/prefs.ts';
import { addDeviceRoutes } from './routes/addDevice.ts';
import { ruleBuilderRoutes } from './routes/ruleBuilder.ts';
import { bleRoutes } from './routes/ble.ts';
import { privacyRoutes } from './routes/privacy.ts';
import { systemRoutes } from './routes/system.ts';
import { uiDir, uiRoutes } from './ui.ts';

export interface LanServerOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate and key: serve HTTPS */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  readonly log: Logger;
  readonly authAttemptsPerMinute: number;
  /** how often a WebSocket re-checks its session */
  readonly sessionRecheckMs: number;
  readonly hosts: HostCheck;
  /** the gateway CA (self-signed TLS), served at /ca.pem for phones and devices to trust */
  readonly caCert?: string | undefined;
}

/** A route as the router knows it, with what it declares (the security suite walks this table). */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: Access | undefined;
  readonly websocket: boolean;
}

export const BODY_LIMIT = 1024 * 1024;

/**
 * The LAN API (REST under /api, a WebSocket of live events, Prometheus metrics at /metrics, the
 * OpenAPI document at /api/openapi.json) and the phone UI's static files. Request and response bodies
 * are zod schemas; the OpenAPI document is generated from them.
 */
export async function buildLanServer(ctx: LanContext, options: LanServerOptions): Promise<{ app: App; routes: () => RouteEntry[] }> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    // a path parameter is not a place for 100 KB: find-my-way refuses longer ones
    routerOptions: { maxParamLength: 200 },
    // zod checks and serializes every route; as fastify's compiler factories, they also keep it from
    // loading its defaults, which nothing would use (ajv and fast-json-stringify: ~600 KB of source,
    // and an ajv instance built at start)
    schemaController: { compilersFactory: { buildValidator: () => validatorCompiler as never, buildSerializer: () => serializerCompiler as never } },
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
  app.decorateRequest('session', undefined);
  const declared: RouteOptions[] = [];
  app.addHook('onRoute', (route) => void declared.push(route));
  const log = options.log;
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0];
      const where = `${err.validationContext ?? 'body'}${issue?.instancePath ? issue.instancePath.replaceAll('/', '.') : ''}`;
      return reply.code(400).send({ error: 'bad_request', message: `${where}: ${issue?.message ?? 'invalid'}` });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) log.error({ err, url: req.url }, 'LAN API request failed');
    return reply.code(status).send({
      error: status === 413 ? 'too_large' : status === 429 ? 'too_many_requests' : status >= 500 ? 'internal' : 'bad_request',
      message: status >= 500 ? 'internal error (logged on the gateway)' : err.message,
    });
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Trellis LAN API', version: ctx.version, description: 'Bearer token from POST /api/pair or /api/login on every route but /api/health.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyHelmet, helmetOptions());
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyWebsocket, { options: { maxPayload: BODY_LIMIT } });
  const tickets = new EventTickets(() => ctx.clock.now());
  app.addHook('onRequest', accessHook(ctx.people, options.hosts, tickets));
  peopleRoutes(app, ctx, { max: options.authAttemptsPerMinute, timeWindow: 60_000 });
  deviceRoutes(app, ctx);
  ruleRoutes(app, ctx);
  ruleBuilderRoutes(app, ctx);
  systemRoutes(app, ctx);
  privacyRoutes(app, ctx);
  bleRoutes(app, ctx);
  backupRoutes(app, ctx);
  notifyRoutes(app, ctx);
  energyRoutes(app, ctx);
  prefsRoutes(app, ctx);
  addDeviceRoutes(app, ctx);
  eventStream(app, ctx, options.sessionRecheckMs, tickets);
  app.get('/api/openapi.json', { config: { access: 'guest' }, schema: { hide: true } }, async () => app.swagger());
  const caCert = options.caCert;
  app.get(
    '/ca.pem',
    { config: { access: 'public' }, schema: { summary: "The gateway CA's certificate (self-signed TLS), to trust on a phone or device", hide: true } },
    async (_req, reply) =>
      caCert
        ? reply.type('application/x-pem-file').send(caCert)
        : reply.code(404).send({ error: 'not_found', message: 'no gateway CA: TLS is off or uses your own certificate' }),
  );
  await app.register(publicFiles);
  uiRoutes(app);
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${(req.url.split('?')[0] ?? '').slice(0, 200)}` }),
  );
  const routes = () =>
    declared.flatMap((r) =>
      [r.method].flat().map((method) => ({
        method: String(method),
        url: r.url,
        access: (r.config as { access?: Access } | undefined)?.access,
        websocket: (r as { websocket?: boolean }).websocket === true,
      })),
    );
  return { app, routes };
}

/** The phone UI's own files (HTML, JS, CSS) are public: they hold no data. Declared here, for every file route. */
async function publicFiles(scope: FastifyInstance): Promise<void> {
  scope.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), access: 'public' } as typeof route.config;
  });
  await scope.register(fastifyStatic, { root: uiDir(), prefix: '/', wildcard: false });
}

/**
 * Security headers on every response. The CSP allows only the gateway's own scripts, styles and
 * connections (fetch and the WebSocket), plus the UI's one inline script, the import map, by its hash.
 * No HSTS: with a self-signed certificate it would make a certificate warning impossible to pass.
 */
function helmetOptions() {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", `'sha256-${importMapHash()}'`],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' as const },
    referrerPolicy: { policy: 'no-referrer' as const },
  };
}

/** The CSP hash of index.html's import map (the only inline script). */
function importMapHash(): string {
  const html = readFileSync(join(uiDir(), 'index.html'), 'utf8');
  const body = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (body === undefined) throw new Error('ui/index.html has no import map');
  return createHash('sha256').update(body).digest('base64');
}
