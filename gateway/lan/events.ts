import '@fastify/websocket';
import type { WebSocket } from 'ws';
import * as z from 'zod';
import type { App, LanContext } from './context.ts';
import type { EventTickets } from './tickets.ts';

/** WebSocket close code for "your session ended" (4000-4999 are the application's own). */
export const SESSION_ENDED = 4001;

/**
 * Live events for the phone: readings, availability, faults, buttons, device changes and alerts, as JSON.
 * A socket lives only as long as its session: revoking the session or removing the person closes it
 * at once, and every socket re-checks its session every `recheckMs` (`lan.sessionRecheckS`: a session
 * may also end in another process, such as a CLI, or by a database restore).
 */
export function eventStream(app: App, ctx: LanContext, recheckMs: number, tickets: EventTickets): void {
  const bySession = new Map<number, Set<WebSocket>>();
  const end = (socket: WebSocket) => socket.close(SESSION_ENDED, 'session ended');
  const owner = { name: 'lan event stream' };
  ctx.bus.on(owner, 'sessionsEnded', (ids) => {
    for (const id of ids) for (const socket of bySession.get(id) ?? []) end(socket);
  });
  const recheck = setInterval(() => {
    for (const [id, sockets] of bySession) if (!ctx.people.sessionActive(id)) for (const socket of sockets) end(socket);
  }, recheckMs);
  recheck.unref();
  app.addHook('onClose', async () => {
    ctx.bus.off(owner);
    clearInterval(recheck);
  });

  app.post('/api/events/ticket', {
    config: { access: 'guest' },
    schema: {
      summary: 'A one-use ticket (30 s) to open the live-event WebSocket with ?ticket=',
      response: { 200: z.object({ ticket: z.string(), expiresInS: z.number() }) },
    },
    handler: async (req) => tickets.issue(req.session as NonNullable<typeof req.session>),
  });

  app.get(
    '/api/events',
    {
      websocket: true,
      config: { access: 'guest' },
      schema: { summary: 'WebSocket of live events (a ticket from POST /api/events/ticket as ?ticket=)', hide: true },
    },
    (socket: WebSocket, req) => {
      const sessionId = (req.session as NonNullable<typeof req.session>).sessionId;
      let sockets = bySession.get(sessionId);
      if (!sockets) bySession.set(sessionId, (sockets = new Set()));
      sockets.add(socket);
      const send = (msg: unknown) => {
        if (socket.readyState === socket.OPEN && socket.bufferedAmount < 1_000_000) socket.send(JSON.stringify(msg));
      };
      ctx.bus.on(socket, 'event', (e) => send({ type: e.kind, ...e }));
      ctx.bus.on(socket, 'device', (d) => send({ type: 'device', id: d.id, name: d.name }));
      ctx.bus.on(socket, 'alert', (a) => send({ type: 'alert', ...a }));
      socket.on('close', () => {
        ctx.bus.off(socket);
        sockets.delete(socket);
        if (sockets.size === 0) bySession.delete(sessionId);
      });
      // A session may have ended between the token check and this handler.
      if (!ctx.people.sessionActive(sessionId)) return end(socket);
      send({ type: 'hello', at: ctx.clock.now() });
    },
  );
}
