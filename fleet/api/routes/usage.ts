import * as z from 'zod';
import { findGaps } from '../../jobs/gaps.ts';
import { MONTH, monthlyUsage, usageCsv } from '../../usage.ts';
import type { FleetApp, FleetContext } from '../context.ts';

const BILLING = ['admin', 'dispatcher', 'billing'] as const;
const month = z.string().regex(MONTH, 'expected a month as YYYY-MM');
const usageRow = z.object({
  gatewayId: z.string(),
  customer: z.string().nullable(),
  deviceRef: z.string(),
  model: z.string().nullable(),
  month: z.string(),
  timeZone: z.string(),
  energyKWh: z.number(),
  counters: z.record(z.string(), z.number()),
  onHours: z.number(),
  starts: z.number(),
  doorOpenHours: z.number(),
  doorOpenings: z.number(),
  hoursCovered: z.number(),
  hoursExpected: z.number(),
  completeness: z.number(),
  gaps: z.array(z.object({ from: z.number(), to: z.number(), reason: z.enum(['offline', 'gateway', 'missing']) })),
});

const usageQuery = z.object({ month, gatewayId: z.string().max(128).optional(), customer: z.string().max(200).optional() });

type ResendRow = {
  requestId: string;
  gatewayId: string;
  deviceRef: string;
  from: number;
  to: number;
  sentAt: number | null;
  answeredAt: number | null;
  resent: number | null;
  missing: number | null;
};

export function usageRoutes(app: FleetApp, ctx: FleetContext): void {
  app.get('/api/usage', {
    config: { allow: BILLING },
    schema: {
      summary: "A month's billing-grade usage per site and device (of one site or one customer's sites), with completeness and gaps",
      querystring: usageQuery,
      response: { 200: z.array(usageRow) },
    },
    handler: (req) => monthlyUsage(ctx.db, req.query.month, ctx.now(), req.query),
  });

  app.get('/api/usage.csv', {
    config: { allow: BILLING },
    schema: { summary: 'The same month as CSV', querystring: usageQuery, produces: ['text/csv'] },
    handler: async (req, reply) => {
      const rows = await monthlyUsage(ctx.db, req.query.month, ctx.now(), req.query);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="usage-${req.query.month}.csv"`).send(usageCsv(rows));
    },
  });

  app.get('/api/usage/gaps', {
    config: { allow: BILLING },
    schema: {
      summary: 'Missing usage buckets of the last 35 days and the resend requests asking for them',
      response: {
        200: z.object({
          gaps: z.array(z.object({ gatewayId: z.string(), deviceRef: z.string(), from: z.number(), to: z.number() })),
          requests: z.array(
            z.object({
              requestId: z.string(),
              gatewayId: z.string(),
              deviceRef: z.string(),
              from: z.number(),
              to: z.number(),
              sentAt: z.number().nullable(),
              answeredAt: z.number().nullable(),
              resent: z.number().nullable(),
              missing: z.number().nullable(),
            }),
          ),
        }),
      },
    },
    handler: async () => ({
      gaps: await findGaps(ctx.db, ctx.now() - 35 * 24 * 3_600_000),
      requests: await ctx.db.query<ResendRow>(
        `SELECT request_id AS "requestId", gateway_id AS "gatewayId", device_ref AS "deviceRef", from_at AS "from", to_at AS "to", sent_at AS "sentAt",
                answered_at AS "answeredAt", resent, not_covered AS missing FROM resend_requests ORDER BY created_at DESC LIMIT 500`,
      ),
    }),
  });
}
