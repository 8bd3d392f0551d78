import * as z from 'zod';
import { acknowledgeAlarm, alarm, clearAlarmById, listAlarms } from '../../alarms.ts';
import { actorOf, type FleetApp, type FleetContext, HttpError, who } from '../context.ts';
import { mayTouch, technicianDevices } from '../scope.ts';

const alarmSchema = z.object({
  id: z.number(),
  gatewayId: z.string(),
  deviceRef: z.string(),
  code: z.string(),
  severity: z.string(),
  message: z.string(),
  state: z.enum(['active', 'cleared']),
  acknowledged: z.boolean(),
  acknowledgedBy: z.string().nullable(),
  count: z.number(),
  firstAt: z.number(),
  lastAt: z.number(),
  clearedAt: z.number().nullable(),
  escalatedAt: z.number().nullable(),
});
const WORKERS = ['admin', 'dispatcher', 'technician'] as const;

export function alarmRoutes(app: FleetApp, ctx: FleetContext): void {
  app.get('/api/alarms', {
    config: { allow: WORKERS },
    schema: {
      summary: "Alarms, newest first (a technician sees its tickets' devices only)",
      querystring: z.object({
        state: z.enum(['active', 'cleared']).optional(),
        acknowledged: z.enum(['true', 'false']).optional(),
        gatewayId: z.string().max(128).optional(),
      }),
      response: { 200: z.array(alarmSchema) },
    },
    handler: async (req) => {
      const u = who(req);
      return listAlarms(ctx.db, {
        state: req.query.state,
        acknowledged: req.query.acknowledged === undefined ? undefined : req.query.acknowledged === 'true',
        gatewayId: req.query.gatewayId,
        devices: u.role === 'technician' ? await technicianDevices(ctx.db, u.id) : undefined,
      });
    },
  });

  app.post('/api/alarms/:id/ack', {
    config: { allow: WORKERS, audit: 'alarm.acknowledge' },
    schema: {
      summary: 'Acknowledge an alarm: someone is on it (it will not be escalated)',
      params: z.object({ id: z.coerce.number().int() }),
      response: { 200: alarmSchema },
    },
    handler: async (req) => {
      const a = await alarm(ctx.db, req.params.id);
      if (!a) throw new HttpError(404, `no alarm ${req.params.id}`);
      await mayTouch(ctx.db, who(req), a);
      return (await acknowledgeAlarm(ctx.db, a.id, actorOf(who(req)), ctx.now())) as z.infer<typeof alarmSchema>;
    },
  });

  app.post('/api/alarms/:id/clear', {
    config: { allow: ['admin', 'dispatcher'], audit: 'alarm.clear' },
    schema: {
      summary: 'Clear an active alarm by hand (it is over); a new alert raises a new one',
      params: z.object({ id: z.coerce.number().int() }),
      response: { 200: alarmSchema },
    },
    handler: async (req) => {
      const a = await clearAlarmById(ctx.db, req.params.id, ctx.now());
      if (!a) throw new HttpError(404, `no alarm ${req.params.id}`);
      return a as z.infer<typeof alarmSchema>;
    },
  });
}
