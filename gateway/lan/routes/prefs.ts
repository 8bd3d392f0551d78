import * as z from 'zod';
import { DEFAULT_PREFS, type Prefs } from '../../store/prefs.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';

const problem = z.object({ error: z.string(), message: z.string() });
const ids = z.array(z.string().min(1).max(64)).max(50);
const prefsView = z.object({ favourites: ids, scenes: ids, simple: z.boolean(), simpleLocked: z.boolean() });
const prefsBody = z.strictObject({ favourites: ids.optional(), scenes: ids.optional(), simple: z.boolean().optional() });

/**
 * Each person's home screen: favourites (devices and scenes) and simple mode. Anyone changes their
 * own; the owner can set them for someone else (an older person's three big buttons), and lock
 * simple mode on so the way out is not offered.
 */
export function prefsRoutes(app: App, ctx: LanContext): void {
  const view = (p: Prefs) => ({ ...p, favourites: [...p.favourites], scenes: [...p.scenes] });

  app.get('/api/me/prefs', {
    config: { access: 'guest' },
    schema: { summary: 'My favourites and simple mode', response: { 200: prefsView } },
    handler: async (req) => view(ctx.prefs.get((req.session as NonNullable<typeof req.session>).user.id)),
  });

  app.put('/api/me/prefs', {
    config: { access: 'guest' },
    schema: {
      summary: 'Change my favourites or simple mode (leaving a simple mode the owner locked is refused)',
      body: prefsBody,
      response: { 200: prefsView, 403: problem },
    },
    handler: async (req, reply) => {
      const me = (req.session as NonNullable<typeof req.session>).user;
      const current = ctx.prefs.get(me.id);
      if (current.simpleLocked && req.body.simple === false)
        return reply.code(403).send({ error: 'forbidden', message: 'simple mode was set for you by the owner: ask them to change it' });
      const next: Prefs = { ...current, ...req.body };
      ctx.prefs.set(me.id, next);
      return view(next);
    },
  });

  app.put('/api/members/:id/prefs', {
    config: { access: 'owner' },
    schema: {
      summary: "Set someone's favourites and simple mode; simpleLocked keeps them in it",
      params: z.object({ id: z.coerce.number().int() }),
      body: prefsBody.extend({ simpleLocked: z.boolean().optional() }),
      response: { 200: prefsView, 404: problem },
    },
    handler: async (req, reply) => {
      if (!ctx.people.list().some((u) => u.id === req.params.id)) return reply.code(404).send({ error: 'not_found', message: `no person ${req.params.id}` });
      const next: Prefs = { ...DEFAULT_PREFS, ...ctx.prefs.get(req.params.id), ...req.body };
      ctx.prefs.set(req.params.id, next);
      ctx.audit.append(actor(req), 'lan.member.prefs', String(req.params.id), { simple: next.simple, simpleLocked: next.simpleLocked });
      return view(next);
    },
  });
}
