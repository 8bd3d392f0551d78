import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../log.ts';
import { authHook } from './auth.ts';
import type { App, LanContext } from './context.ts';
import { eventStream } from './events.ts';
import { deviceRoutes } from './routes/devices.ts';
import { peopleRoutes } from './routes/people.ts';
import { ruleRoutes } from './routes/rules.ts';
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
}

export const BODY_LIMIT = 1024 * 1024;

/**
 * The LAN API (REST under /api, a WebSocket of live events, Prometheus metrics at /metrics, the
 * OpenAPI document at /api/openapi.json) and the phone UI's static files. Request and response bodies
 * are zod schemas; the OpenAPI document is generated from them.
 */
export async function buildLanServer(ctx: LanContext, options: LanServerOptions): Promise<App> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('session', undefined);
  const log = options.log;
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0];
      const where = `${err.validationContext ?? 'body'}${issue?.instancePath ? issue.instancePath.replaceAll('/', '.') : ''}`;
      return reply.code(400).send({ error: 'bad_request', message: `${where}: ${issue?.message ?? 'invalid'}` });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) log.error({ err, url: req.url }, 'LAN API request failed');
    return reply.code(status).send({ error: status === 413 ? 'too_large' : status === 429 ? 'too_many_requests' : status >= 500 ? 'internal' : 'bad_request', message: status >= 500 ? 'internal error (logged on the gateway)' : err.message });
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Trellis LAN API', version: ctx.version, description: 'Bearer token from POST /api/pair or /api/login on every route but /api/health.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyWebsocket, { options: { maxPayload: BODY_LIMIT } });
  app.addHook('onRequest', authHook(ctx.people));
  peopleRoutes(app, ctx, { max: options.authAttemptsPerMinute, timeWindow: 60_000 });
  deviceRoutes(app, ctx);
  ruleRoutes(app, ctx);
  systemRoutes(app, ctx);
  privacyRoutes(app, ctx);
  eventStream(app, ctx);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(fastifyStatic, { root: uiDir(), prefix: '/', wildcard: false });
  uiRoutes(app);
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
  return app;
}
