import * as z from 'zod';
import { listAudit } from '../../audit.ts';
import type { FleetApp, FleetContext } from '../context.ts';

const entry = z.object({
  id: z.number(),
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  status: z.number(),
  detail: z.record(z.string(), z.unknown()),
});

export function auditRoutes(app: FleetApp, ctx: FleetContext): void {
  app.get('/api/audit', {
    config: { allow: ['admin'] },
    schema: {
      summary: 'Who did what in the console and API, newest first: sign-ins, alarms, tickets, commands, people (refusals too)',
      querystring: z.object({
        actor: z.string().max(200).optional(),
        action: z.string().max(64).optional(),
        before: z.coerce.number().int().optional(),
        limit: z.coerce.number().int().min(1).max(1000).optional(),
      }),
      response: { 200: z.array(entry) },
    },
    handler: (req) => listAudit(ctx.db, req.query),
  });
}
