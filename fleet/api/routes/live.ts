import type { ServerResponse } from 'node:http';
import { ANYONE, type FleetApp, type FleetContext, HttpError, who } from '../context.ts';
import type { LiveHub } from '../live.ts';

/** streams one person may hold open (tabs, a phone and a desk) */
export const STREAMS_PER_PERSON = 8;
/** streams this process holds open in all */
export const STREAMS_IN_ALL = 500;
/** a comment line this often keeps proxies from closing an idle stream, and re-checks the token */
const HEARTBEAT_MS = 15_000;

/**
 * GET /api/live: a text/event-stream of `change` events, each naming the topics that changed
 * (`{"topics":["alarms","tickets"]}`), for the console to reload those views. It is read with
 * fetch and the Bearer token like every other route (no token in the URL, where logs keep it), it
 * ends when the token is revoked or the person removed, and there are caps per person and in all.
 */
export function liveRoutes(app: FleetApp, ctx: FleetContext, hub: LiveHub): void {
  const open = new Set<ServerResponse>();
  const perPerson = new Map<number, number>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/api/live', {
    config: { allow: ANYONE },
    schema: { summary: 'Server-sent events naming what changed (topics only, never data); read with fetch and the Bearer token' },
    handler: async (req, reply) => {
      const u = who(req);
      const mine = perPerson.get(u.id) ?? 0;
      if (mine >= STREAMS_PER_PERSON) throw new HttpError(429, `you have ${mine} live streams open already (at most ${STREAMS_PER_PERSON}); close a tab`);
      if (open.size >= STREAMS_IN_ALL) throw new HttpError(429, `this server holds ${open.size} live streams (at most ${STREAMS_IN_ALL}); try again later`);
      const token = (req.headers.authorization ?? '').slice(7);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'close', // the socket goes with the stream (a server-ended stream leaves no idle connection behind)
      });
      open.add(res);
      perPerson.set(u.id, mine + 1);
      const still = async () => {
        if (!(await ctx.people.authenticate(token).catch(() => undefined))) res.end();
      };
      const unsubscribe = hub.subscribe((topics) => {
        res.write(`event: change\ndata: ${JSON.stringify({ topics })}\n\n`);
        if (topics.includes('people') || topics.includes('sessions')) void still();
      });
      const beat = setInterval(() => {
        res.write(': still here\n\n');
        void still();
      }, HEARTBEAT_MS);
      res.on('close', () => {
        clearInterval(beat);
        unsubscribe();
        open.delete(res);
        const left = (perPerson.get(u.id) ?? 1) - 1;
        if (left > 0) perPerson.set(u.id, left);
        else perPerson.delete(u.id);
      });
      res.write(`event: hello\ndata: ${JSON.stringify({ topics: [] })}\n\n`);
    },
  });
}
