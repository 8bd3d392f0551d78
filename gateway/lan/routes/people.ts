import * as z from 'zod';
import type { FastifyReply } from 'fastify';
import { HasherBusyError } from '../../auth/passwordHasher.ts';
import { ErrorCodes, isTrellisError } from '../../errors.ts';
import type { App, LanContext } from '../context.ts';
import { ROLES } from '../../store/people.ts';
import { actor } from '../auth.ts';

const user = z.object({ id: z.number().int(), name: z.string(), role: z.enum(ROLES) });
const signedIn = z.object({ token: z.string().describe('send as Authorization: Bearer <token>'), user });
const problem = z.object({ error: z.string(), message: z.string() });
const name = z.string().trim().min(1).max(64);
const password = z.string().min(8, { error: 'at least 8 characters' }).max(200);
const label = z.string().max(100).default('phone');
/**
 * Runs a sign-in or pairing attempt under the auth throttle: failures from the same address (and for
 * the same name) slow the next attempts down and then refuse them (429) for a while.
 */
async function throttled<T>(
  ctx: LanContext,
  reply: FastifyReply,
  source: string,
  name: string | undefined,
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined | 'answered'> {
  try {
    const r = await ctx.throttle.guard(source, name, attempt);
    if (!r.refused) return r.result;
    await reply
      .code(429)
      .header('retry-after', String(Math.ceil(r.retryAfterMs / 1000)))
      .send({ error: 'too_many_requests', message: 'too many failed attempts from here; try again later' });
  } catch (err) {
    if (!(err instanceof HasherBusyError)) throw err;
    await reply.code(503).header('retry-after', '5').send({ error: 'busy', message: err.message });
  }
  return 'answered';
}

/** `rateLimit`: against brute-forcing a pairing code or a password, a few tries per minute per address. */
export function peopleRoutes(app: App, ctx: LanContext, rateLimit: { max: number; timeWindow: number }): void {
  app.post('/api/pair', {
    config: { access: 'public', rateLimit },
    schema: {
      summary: 'Redeem a pairing code or invite: creates the person and signs this phone in',
      body: z.strictObject({ code: z.string().min(4).max(20), name, password: password.optional(), label }),
      response: { 200: signedIn, 400: problem, 409: problem },
    },
    handler: async (req, reply) => {
      try {
        const done = await throttled(ctx, reply, req.ip, undefined, () => ctx.people.redeem(req.body.code, req.body.name, req.body.password, req.body.label));
        if (done === 'answered') return reply;
        if (!done) return reply.code(400).send({ error: 'bad_code', message: 'that code is unknown, used or expired' });
        ctx.audit.append(`${done.user.role}:${done.user.name}`, 'lan.pair', done.user.name, { role: done.user.role });
        return done;
      } catch (err) {
        if (isTrellisError(err) && err.code === ErrorCodes.auth) return reply.code(409).send({ error: 'conflict', message: err.message });
        throw err;
      }
    },
  });

  app.post('/api/login', {
    config: { access: 'public', rateLimit },
    schema: {
      summary: 'Sign in with a name and password',
      body: z.strictObject({ name, password: z.string().min(1).max(200), label }),
      response: { 200: signedIn, 401: problem },
    },
    handler: async (req, reply) => {
      const done = await throttled(ctx, reply, req.ip, req.body.name, () => ctx.people.login(req.body.name, req.body.password, req.body.label));
      if (done === 'answered') return reply;
      if (!done) return reply.code(401).send({ error: 'unauthorized', message: 'wrong name or password' });
      return done;
    },
  });

  app.get('/api/me', {
    config: { access: 'guest' },
    schema: {
      summary: 'Who I am, and my sessions',
      response: {
        200: z.object({
          user,
          sessionId: z.number().int(),
          sessions: z.array(z.object({ id: z.number().int(), label: z.string(), createdAt: z.number(), lastUsed: z.number() })),
        }),
      },
    },
    handler: async (req) => {
      const s = req.session as NonNullable<typeof req.session>;
      return { user: s.user, sessionId: s.sessionId, sessions: ctx.people.sessions(s.user.id) };
    },
  });

  app.delete('/api/sessions/:id', {
    config: { access: 'guest' },
    schema: {
      summary: 'Revoke a session (yours; the owner may revoke any)',
      params: z.object({ id: z.coerce.number().int() }),
      response: { 204: z.null(), 404: problem },
    },
    handler: async (req, reply) => {
      const ok = ctx.people.revokeSession(req.params.id, (req.session as NonNullable<typeof req.session>).user);
      return ok ? reply.code(204).send(null) : reply.code(404).send({ error: 'not_found', message: `no session ${req.params.id} of yours` });
    },
  });

  app.get('/api/members', {
    config: { access: 'owner' },
    schema: { summary: 'Everyone who may use this gateway', response: { 200: z.array(user) } },
    handler: async () => ctx.people.list(),
  });

  app.post('/api/members/invite', {
    config: { access: 'owner' },
    schema: {
      summary: 'A one-time invite code (valid 24 hours) for a member or guest',
      body: z.strictObject({ role: z.enum(['member', 'guest']) }),
      response: { 200: z.object({ code: z.string(), role: z.enum(['member', 'guest']), expiresAt: z.number(), url: z.string() }) },
    },
    handler: async (req) => {
      const ttl = 24 * 3_600_000;
      const code = ctx.people.issueCode(req.body.role, ttl, (req.session as NonNullable<typeof req.session>).user.id);
      ctx.audit.append(actor(req), 'lan.member.invite', null, { role: req.body.role });
      return { code, role: req.body.role, expiresAt: ctx.clock.now() + ttl, url: `${ctx.publicUrl()}/#/pair?code=${code}` };
    },
  });

  app.delete('/api/members/:id', {
    config: { access: 'owner' },
    schema: {
      summary: 'Remove a person and sign out all their phones',
      params: z.object({ id: z.coerce.number().int() }),
      response: { 204: z.null(), 404: problem, 409: problem },
    },
    handler: async (req, reply) => {
      try {
        if (!ctx.people.remove(req.params.id)) return reply.code(404).send({ error: 'not_found', message: `no person ${req.params.id}` });
        ctx.audit.append(actor(req), 'lan.member.remove', String(req.params.id), {});
        return reply.code(204).send(null);
      } catch (err) {
        if (isTrellisError(err)) return reply.code(409).send({ error: 'conflict', message: err.message });
        throw err;
      }
    },
  });
}
