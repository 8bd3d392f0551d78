import * as z from 'zod';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';

/** The owner's notification channels (from the config): their state, and a test message to each. */
export function notifyRoutes(app: App, ctx: LanContext): void {
  app.get('/api/notify', {
    config: { access: 'owner' },
    schema: {
      summary: 'Where alerts go besides the app: each channel (its host, never its path), what it was sent, its last error',
      response: {
        200: z.array(
          z.object({
            name: z.string(),
            type: z.enum(['webhook', 'ntfy']),
            where: z.string(),
            minSeverity: z.string(),
            sent: z.number(),
            failed: z.number(),
            lastOkAt: z.number().nullable(),
            lastError: z.string().nullable(),
          }),
        ),
      },
    },
    handler: async () => ctx.notifications.status(),
  });

  app.post('/api/notify/test', {
    config: { access: 'owner' },
    schema: {
      summary: 'Send a test message to every channel now; each one answers whether it arrived',
      response: { 200: z.array(z.object({ name: z.string(), ok: z.boolean(), error: z.string().nullable() })) },
    },
    handler: async (req) => {
      const results = await ctx.notifications.test(req.session?.user.name ?? 'the owner');
      ctx.audit.append(actor(req), 'lan.notify.test', null, { ok: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length });
      return results;
    },
  });
}
