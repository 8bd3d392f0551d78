import type { Gauge, Registry } from 'prom-client';
import * as z from 'zod';
import { healthData } from '../../../protocol/index.ts';
import type { App, LanContext } from '../context.ts';

const alert = z.object({
  id: z.number().int(),
  at: z.number(),
  severity: z.string(),
  message: z.string(),
  source: z.string(),
  ruleId: z.string().nullable(),
  deviceId: z.string().nullable(),
});

export function systemRoutes(app: App, ctx: LanContext): void {
  const started = Date.now();
  app.get('/api/health', {
    config: { access: 'public' },
    schema: {
      summary: 'Is the gateway up (open to all, for monitors)',
      response: {
        200: z.object({
          status: z.literal('ok'),
          version: z.string(),
          uptimeS: z.number(),
          paired: z.boolean(),
          devices: z.object({ known: z.number(), online: z.number() }),
        }),
      },
    },
    handler: async () => {
      let known = 0;
      let online = 0;
      for (const d of ctx.registry.all()) {
        known++;
        if (ctx.hub.state.isOnline(d.id)) online++;
      }
      return {
        status: 'ok' as const,
        version: ctx.version,
        uptimeS: Math.round((Date.now() - started) / 1000),
        paired: ctx.people.hasOwner(),
        devices: { known, online },
      };
    },
  });

  app.get('/api/diagnostics', {
    config: { access: 'guest' },
    schema: {
      summary: 'For self-service troubleshooting: health, driver counters, outbox, cloud link, history writer, rule file problems',
      response: {
        200: z.object({
          health: healthData,
          cloud: z.object({
            configured: z.boolean(),
            connected: z.boolean(),
            protocol: z.number().nullable(),
            lastError: z.string().nullable(),
            nextAttemptInMs: z.number().nullable(),
          }),
          writer: z.record(z.string(), z.number()),
          rules: z.object({ active: z.number(), problems: z.string().nullable() }),
        }),
      },
    },
    handler: async () => {
      const link = ctx.cloudStatus();
      return {
        health: ctx.peekHealth(),
        cloud: {
          configured: link !== undefined,
          connected: link?.connected ?? false,
          protocol: link?.protocol ?? null,
          lastError: link?.lastError ?? null,
          nextAttemptInMs: link?.nextAttemptInMs ?? null,
        },
        writer: { ...ctx.writer.stats() },
        rules: { active: ctx.rules.ruleCount, problems: ctx.ruleFile.lastProblems ?? null },
      };
    },
  });

  app.get('/api/alerts', {
    config: { access: 'guest' },
    schema: {
      summary: 'Recent alerts, newest first',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: { 200: z.array(alert) },
    },
    handler: async (req) => ctx.alerts.recent(req.query.limit),
  });

  // prom-client and its default metrics (an event-loop monitor, a GC observer called on every GC)
  // start with the first scrape: a gateway nobody scrapes does not pay for them
  let metrics: Promise<Registry> | undefined;
  app.get('/metrics', {
    config: { access: 'guest' },
    schema: { summary: 'Prometheus metrics (send the token as a bearer token)', hide: false },
    handler: async (_req, reply) => {
      metrics ??= prometheus(ctx);
      const registry = await metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  });
}

/** Gauges read at scrape time from the same counters health uses. */
async function prometheus(ctx: LanContext): Promise<Registry> {
  const { Gauge, Registry, collectDefaultMetrics } = await import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trellis_' });
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        collect(this);
      },
    });
  gauge('trellis_devices', 'devices known and online', ['state'], (g) => {
    const h = ctx.peekHealth();
    g.set({ state: 'known' }, h.devices.known);
    g.set({ state: 'online' }, h.devices.online);
  });
  gauge('trellis_driver_counter', 'per-driver counters (messages, rejected, commandsSent, ...)', ['driver', 'counter'], (g) => {
    for (const d of ctx.hub.drivers()) for (const [k, v] of Object.entries(d.counters())) g.set({ driver: d.protocol, counter: k }, v);
  });
  gauge('trellis_hub_counter', 'hub counters (events, rejected, commands, listenerErrors)', ['counter'], (g) => {
    for (const [k, v] of Object.entries(ctx.hub.counters())) g.set({ counter: k }, v);
  });
  gauge('trellis_history_rows_written', 'rows committed by the history writer', [], (g) => g.set(ctx.writer.stats().rowsWritten));
  gauge('trellis_outbox_depth', 'cloud outbox records waiting', [], (g) => g.set(ctx.peekHealth().outbox.depth));
  gauge('trellis_cloud_connected', '1 when the cloud link is up', [], (g) => g.set(ctx.cloudStatus()?.connected ? 1 : 0));
  return registry;
}
