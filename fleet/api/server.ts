import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type RouteOptions } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { auditHook } from './audit.ts';
import { consoleCsp, consoleRoutes } from './console.ts';
import type { Access, FleetApp, FleetContext } from './context.ts';
import { LiveHub } from './live.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { auditRoutes } from './routes/audit.ts';
import { commandRoutes } from './routes/commands.ts';
import { liveRoutes } from './routes/live.ts';
import { peopleRoutes } from './routes/people.ts';
import { siteRoutes } from './routes/sites.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { usageRoutes } from './routes/usage.ts';

export const BODY_LIMIT = 256 * 1024;

/** A route as the router knows it, with its declared access (the auth test walks this table). */
export interface FleetRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access | undefined;
  readonly audit: string | undefined;
}

/**
 * The fleet's REST API: zod schemas validate every body, query and parameter and generate the
 * OpenAPI document (/api/openapi.json). Every route declares who may call it; the access hook
 * decides on the route the router matched (never the URL's text) and refuses a route that declares
 * nothing. Tokens travel only in `Authorization: Bearer`.
 */
export async function buildFleetApi(ctx: FleetContext, onError: (err: Error, url: string) => void): Promise<{ app: FleetApp; routes: () => FleetRoute[] }> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>() as unknown as FleetApp;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('user', undefined);
  const declared: RouteOptions[] = [];
  app.addHook('onRoute', (route) => void declared.push(route));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issue = err.validation[0];
      const where = `${err.validationContext ?? 'body'}${issue?.instancePath ? issue.instancePath.replaceAll('/', '.') : ''}`;
      return reply.code(400).send({ error: 'bad_request', message: `${where}: ${issue?.message ?? 'invalid'}` });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) onError(err, req.url);
    return reply.code(status).send({
      error: status === 404 ? 'not_found' : status === 409 ? 'conflict' : status === 429 ? 'too_many_requests' : status >= 500 ? 'internal' : 'bad_request',
      message: status >= 500 ? 'internal error (logged by trellis-fleet)' : err.message,
    });
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Trellis Fleet API',
        version: ctx.version,
        description: 'Bearer token from POST /api/login on every route but /api/health and /api/login.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyHelmet, { contentSecurityPolicy: consoleCsp(), xFrameOptions: { action: 'deny' }, referrerPolicy: { policy: 'no-referrer' } });
  await app.register(fastifyRateLimit, { global: false });
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const access = req.routeOptions.config?.allow;
    if (access === undefined) return reply.code(403).send({ error: 'forbidden', message: 'this route declares no access, so nobody may use it' });
    if (access === 'public') return;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const user = token ? await ctx.people.authenticate(token) : undefined;
    if (!user)
      return reply.code(401).send({
        error: 'unauthorized',
        message: token ? 'the token is not valid (signed out or unknown); sign in again' : 'sign in first: send Authorization: Bearer <token>',
      });
    req.user = user;
    if (!access.includes(user.role))
      return reply.code(403).send({ error: 'forbidden', message: `this needs the role ${access.join(' or ')}; you are ${user.role}` });
  });
  app.addHook('onSend', auditHook(ctx, onError));
  peopleRoutes(app, ctx);
  siteRoutes(app, ctx);
  alarmRoutes(app, ctx);
  ticketRoutes(app, ctx);
  usageRoutes(app, ctx);
  commandRoutes(app, ctx);
  auditRoutes(app, ctx);
  const live = await LiveHub.start(ctx.db);
  app.addHook('onClose', () => live.stop());
  liveRoutes(app, ctx, live);
  await consoleRoutes(app);
  app.get('/api/openapi.json', { config: { allow: ['admin', 'dispatcher', 'technician', 'billing'] }, schema: { hide: true } }, async () => app.swagger());
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${(req.url.split('?')[0] ?? '').slice(0, 200)}` }),
  );
  const routes = () =>
    declared.flatMap((r) =>
      [r.method].flat().map((method) => {
        const config = r.config as { allow?: Access; audit?: string } | undefined;
        return { method: String(method), url: r.url, access: config?.allow, audit: config?.audit };
      }),
    );
  return { app, routes };
}
