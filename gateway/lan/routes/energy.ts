import * as z from 'zod';
import { energyReport, periodRange } from '../../metering/energyReport.ts';
import { localDate } from '../../metering/hours.ts';
import type { App, LanContext } from '../context.ts';

const cost = z.number().nullable();

/** Energy and costs per day, week or month (guests may look: it is the household's own view). */
export function energyRoutes(app: App, ctx: LanContext): void {
  app.get('/api/energy', {
    config: { access: 'guest' },
    schema: {
      summary: 'Energy per device and in total for a day, week (from Monday) or month, priced by tariff window; missing hours are counted, never shown as zero',
      querystring: z.strictObject({
        period: z.enum(['day', 'week', 'month'], { error: 'expected day, week or month' }).default('day'),
        date: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date like 2026-12-01' })
          .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), { error: 'expected a real date' })
          .optional(),
      }),
      response: {
        200: z.object({
          period: z.object({ kind: z.string(), from: z.string(), to: z.string(), start: z.number(), end: z.number() }),
          currency: z.string(),
          priced: z.boolean(),
          total: z.object({ kwh: z.number(), cost, missingHours: z.number(), hours: z.number() }),
          devices: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              kwh: z.number(),
              cost,
              share: z.number(),
              counters: z.record(z.string(), z.number()),
              missingHours: z.number(),
              hours: z.number(),
            }),
          ),
          days: z.array(z.object({ day: z.string(), kwh: z.number(), cost, missingHours: z.number(), hours: z.number() })),
          byTariff: z.array(z.object({ tariff: z.string(), kwh: z.number(), cost })),
        }),
      },
    },
    handler: async (req) => {
      const now = ctx.clock.now();
      const { timezone, tariffs, energy } = ctx.energyConfig;
      const date = req.query.date ?? localDate(now, timezone);
      const range = periodRange(req.query.period, date, timezone);
      const devices = ctx.history.allUsage(range.start, range.end).map((u) => ({
        id: u.deviceId,
        name: ctx.registry.get(u.deviceId)?.name ?? u.deviceId,
        firstStart: u.firstStart,
        buckets: u.buckets,
      }));
      const report = energyReport({
        kind: req.query.period,
        date,
        timeZone: timezone,
        now,
        tariffs,
        prices: { currency: energy.currency, price: energy.price, prices: energy.prices },
        devices,
      });
      return {
        ...report,
        devices: report.devices.map((d) => ({ ...d, counters: { ...d.counters } })),
        days: [...report.days],
        byTariff: [...report.byTariff],
      };
    },
  });
}
