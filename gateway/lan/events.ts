import '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { App, LanContext } from './context.ts';

/** Live events for the phone: readings, availability, faults, buttons, device changes and alerts, as JSON. */
export function eventStream(app: App, ctx: LanContext): void {
  app.get('/api/events', { websocket: true, schema: { summary: 'WebSocket of live events (token as ?token=)', hide: true } }, (socket: WebSocket) => {
    const send = (msg: unknown) => {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount < 1_000_000) socket.send(JSON.stringify(msg));
    };
    const off = [
      ctx.hub.on('event', (e) => send({ type: e.kind, ...e })),
      ctx.hub.on('device', (d) => send({ type: 'device', id: d.id, name: d.name })),
      ctx.hub.on('alert', (a) => send({ type: 'alert', ...a })),
    ];
    socket.on('close', () => {
      for (const o of off) o();
    });
    send({ type: 'hello', at: ctx.clock.now() });
  });
}
