import * as z from 'zod';
import { SCHEMA_VERSION } from '../../db/migrations.ts';
import { PeopleError, ROLES } from '../../people.ts';
import { ANYONE, type FleetApp, type FleetContext, HttpError, who } from '../context.ts';

const user = z.object({ id: z.number(), name: z.string(), role: z.enum(ROLES) });
const health = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  engine: z.string(),
  schema: z.number(),
  ingest: z.boolean(),
  ingestFailing: z.object({ since: z.number(), commits: z.number(), sqlState: z.string().nullable() }).nullable(),
});

export function peopleRoutes(app: FleetApp, ctx: FleetContext): void {
  app.get('/api/health', {
    config: { allow: 'public' },
    schema: {
      summary:
        "Is trellis-fleet up (open to all, for monitors): 503 and status 'degraded' while its ingest cannot commit (the database full, or refusing writes)",
      response: {
        200: health,
        503: health,
      },
    },
    handler: async (_req, reply) => {
      await ctx.db.query('SELECT 1');
      const failing = ctx.ingestFailing() ?? null;
      if (failing) reply.code(503);
      return {
        status: failing ? ('degraded' as const) : ('ok' as const),
        version: ctx.version,
        engine: ctx.db.engine,
        schema: SCHEMA_VERSION,
        ingest: ctx.ingestConnected(),
        ingestFailing: failing,
      };
    },
  });

  app.post('/api/login', {
    config: { allow: 'public', audit: 'session.signin', rateLimit: { max: ctx.config.api.signInPerMinute, timeWindow: 60_000 } },
    schema: {
      summary: 'Sign in: a bearer token for every other route',
      body: z.strictObject({ name: z.string().min(1).max(64), password: z.string().min(1).max(512) }),
      response: { 200: z.object({ token: z.string(), user }) },
    },
    handler: async (req) => {
      const got = await ctx.people.signIn(req.body.name, req.body.password);
      if (!got) throw new HttpError(401, 'wrong name or password');
      return got;
    },
  });

  app.post('/api/logout', {
    config: { allow: ANYONE, audit: 'session.signout' },
    schema: { summary: 'Sign out: this token stops working', response: { 204: z.null() } },
    handler: async (req, reply) => {
      await ctx.people.revoke((req.headers.authorization ?? '').slice(7));
      return reply.code(204).send(null);
    },
  });

  app.get('/api/me', { config: { allow: ANYONE }, schema: { summary: 'Who this token is', response: { 200: user } }, handler: async (req) => who(req) });

  app.get('/api/users', {
    config: { allow: ['admin'] },
    schema: { summary: 'The people of this fleet', response: { 200: z.array(user) } },
    handler: () => ctx.people.list(),
  });

  app.get('/api/technicians', {
    config: { allow: ['admin', 'dispatcher'] },
    schema: { summary: 'The technicians a ticket can be assigned to', response: { 200: z.array(z.object({ id: z.number(), name: z.string() })) } },
    handler: async () => (await ctx.people.list()).filter((u) => u.role === 'technician').map(({ id, name }) => ({ id, name })),
  });

  app.post('/api/users', {
    config: { allow: ['admin'], audit: 'person.add' },
    schema: {
      summary: 'Add a person (argon2id password)',
      body: z.strictObject({ name: z.string(), role: z.enum(ROLES), password: z.string() }),
      response: { 201: user },
    },
    handler: async (req, reply) => {
      try {
        return reply.code(201).send(await ctx.people.add(req.body.name, req.body.role, req.body.password));
      } catch (err) {
        if (err instanceof PeopleError) throw new HttpError(/exists/.test(err.message) ? 409 : 400, err.message);
        throw err;
      }
    },
  });

  app.delete('/api/users/:id', {
    config: { allow: ['admin'], audit: 'person.remove' },
    schema: { summary: 'Remove a person; their tokens stop working', params: z.object({ id: z.coerce.number().int() }), response: { 204: z.null() } },
    handler: async (req, reply) => {
      if (req.params.id === who(req).id) throw new HttpError(409, 'you cannot remove yourself');
      if (!(await ctx.people.remove(req.params.id))) throw new HttpError(404, `no user ${req.params.id}`);
      return reply.code(204).send(null);
    },
  });
}
