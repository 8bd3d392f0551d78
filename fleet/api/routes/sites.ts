import * as z from 'zod';
import { allDevices, deviceDetail, devices, healthHistory, labelSite, listSites, site, worstSignals } from '../../inventory.ts';
import { listCommands } from '../../commands.ts';
import { listAlarms } from '../../alarms.ts';
import { riskRanking } from '../../jobs/risk.ts';
import { type FleetApp, type FleetContext, HttpError, OPERATIONS, who } from '../context.ts';
import { mayTouch } from '../scope.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is never valid in a topic [MQTT-1.5.3-2]
const SEGMENT = z.string().regex(/^[^/+#\u0000]{1,128}$/, 'expected a gateway id');
const siteSchema = z.object({
  gatewayId: z.string(),
  label: z.string().nullable(),
  customer: z.string().nullable(),
  state: z.string().nullable(),
  version: z.string().nullable(),
  timeZone: z.string().nullable(),
  lastSeen: z.number(),
  invalidCount: z.number(),
  devices: z.number(),
  activeAlarms: z.number(),
  outboxDepth: z.number().nullable(),
  outboxLagS: z.number().nullable(),
  healthAt: z.number().nullable(),
});
const deviceSchema = z.object({
  gatewayId: z.string(),
  deviceRef: z.string(),
  kind: z.string().nullable(),
  model: z.string().nullable(),
  name: z.string().nullable(),
  capabilities: z.array(z.string()),
  commands: z.array(z.string()),
  classes: z.array(z.string()),
  access: z.enum(['granted', 'ended']),
  accessEndedAt: z.number().nullable(),
  online: z.boolean().nullable(),
  offlineSince: z.number().nullable(),
});

export function siteRoutes(app: FleetApp, ctx: FleetContext): void {
  app.get('/api/sites', {
    config: { allow: ['admin', 'dispatcher', 'billing'] },
    schema: {
      summary: 'Every site (gateway): online or not, devices, active alarms, outbox depth and lag',
      querystring: z.object({ customer: z.string().max(200).optional() }),
      response: { 200: z.array(siteSchema) },
    },
    handler: (req) => listSites(ctx.db, { customer: req.query.customer }),
  });

  app.get('/api/devices', {
    config: { allow: OPERATIONS },
    schema: {
      summary: 'Granted devices across every site (with commandable=true, those the provider may set something of), at most `limit`',
      querystring: z.object({ commandable: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(5000).default(1000) }),
      response: { 200: z.array(deviceSchema) },
    },
    handler: (req) => allDevices(ctx.db, { commandable: req.query.commandable === 'true', limit: req.query.limit }),
  });

  app.get('/api/sites/:gatewayId', {
    config: { allow: OPERATIONS },
    schema: {
      summary: 'One site: its figures, its devices as the owner granted them, its last health record and active alarms',
      params: z.object({ gatewayId: SEGMENT }),
      response: { 200: z.object({ site: siteSchema, devices: z.array(deviceSchema), health: z.unknown().nullable(), alarms: z.array(z.unknown()) }) },
    },
    handler: async (req) => {
      const s = await site(ctx.db, req.params.gatewayId);
      if (!s) throw new HttpError(404, `no site ${req.params.gatewayId}`);
      const [health] = await ctx.db.query<{ data: unknown }>('SELECT data FROM health WHERE gateway_id = $1 ORDER BY at DESC LIMIT 1', [s.gatewayId]);
      return {
        site: s,
        devices: await devices(ctx.db, s.gatewayId),
        health: health?.data ?? null,
        alarms: await listAlarms(ctx.db, { gatewayId: s.gatewayId, state: 'active' }),
      };
    },
  });

  app.get('/api/sites/:gatewayId/devices/:deviceRef', {
    config: { allow: ['admin', 'dispatcher', 'technician'] },
    schema: {
      summary:
        "One device: what its owner granted, its maintenance signals and usage per day (30 days), its active alarms and recent commands (a technician: its tickets' devices only)",
      params: z.object({ gatewayId: SEGMENT, deviceRef: SEGMENT }),
    },
    handler: async (req) => {
      await mayTouch(ctx.db, who(req), req.params);
      const detail = await deviceDetail(ctx.db, req.params.gatewayId, req.params.deviceRef, ctx.now());
      if (!detail) throw new HttpError(404, `no device ${req.params.deviceRef} at ${req.params.gatewayId}`);
      const alarms = await listAlarms(ctx.db, { state: 'active', devices: [req.params] });
      const commands = await listCommands(ctx.db, { ...req.params, limit: 20 });
      return { ...detail, alarms, commands };
    },
  });

  app.get('/api/sites/:gatewayId/health', {
    config: { allow: OPERATIONS },
    schema: {
      summary: "A site's health over the last hours (event-loop lag, outbox depth, CPU, devices online), at most 200 points",
      params: z.object({ gatewayId: SEGMENT }),
      querystring: z.object({ hours: z.coerce.number().positive().max(720).default(24) }),
    },
    handler: (req) => {
      const to = ctx.now();
      return healthHistory(ctx.db, req.params.gatewayId, to - req.query.hours * 3_600_000, to);
    },
  });

  app.get('/api/maintenance/worst', {
    config: { allow: OPERATIONS },
    schema: { summary: 'The devices whose latest maintenance signals are furthest over their limits' },
    handler: () => worstSignals(ctx.db),
  });

  app.get('/api/maintenance/risk', {
    config: { allow: OPERATIONS },
    schema: {
      summary: 'The devices most likely to fail within a week (the latest scored day), with what drove each score',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), model: z.string().min(1).max(128).optional() }),
    },
    handler: (req) => riskRanking(ctx.db, req.query.limit, req.query.model),
  });

  app.get('/api/sites/:gatewayId/invalid', {
    config: { allow: OPERATIONS },
    schema: {
      summary: "What a site sent that failed validation, newest first (the first 4 KB of each, kept 30 days): to tell its owner's installer what is wrong",
      params: z.object({ gatewayId: SEGMENT }),
      response: { 200: z.array(z.object({ topic: z.string(), reason: z.string(), payload: z.string(), receivedAt: z.number() })) },
    },
    handler: (req) =>
      ctx.db.query<{ topic: string; reason: string; payload: string; receivedAt: number }>(
        'SELECT topic, reason, payload, received_at AS "receivedAt" FROM invalid_messages WHERE gateway_id = $1 ORDER BY id DESC LIMIT 200',
        [req.params.gatewayId],
      ),
  });

  app.patch('/api/sites/:gatewayId', {
    config: { allow: OPERATIONS, audit: 'site.label' },
    schema: {
      summary: "The provider's own label and customer of a site",
      params: z.object({ gatewayId: SEGMENT }),
      body: z.strictObject({ label: z.string().max(200).nullable().optional(), customer: z.string().max(200).nullable().optional() }),
      response: { 200: siteSchema },
    },
    handler: async (req) => {
      if (!(await labelSite(ctx.db, req.params.gatewayId, req.body))) throw new HttpError(404, `no site ${req.params.gatewayId}`);
      return (await site(ctx.db, req.params.gatewayId)) as z.infer<typeof siteSchema>;
    },
  });
}
