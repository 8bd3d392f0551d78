import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { command, createCommand, createJob, type JobProgress, jobProgress, listCommands } from '../../commands.ts';
import { actorOf, type FleetApp, type FleetContext, HttpError, OPERATIONS, who } from '../context.ts';
import { mayTouch } from '../scope.ts';

const WORKERS = ['admin', 'dispatcher', 'technician'] as const;
const value = z.union([z.number(), z.boolean(), z.string().max(256)]);
const commandSchema = z.object({
  requestId: z.string(),
  gatewayId: z.string(),
  deviceRef: z.string(),
  attribute: z.string(),
  value: z.unknown(),
  state: z.enum(['created', 'sent', 'succeeded', 'failed', 'rejected', 'timed_out', 'expired']),
  reason: z.string().nullable(),
  jobId: z.number().nullable(),
  createdBy: z.string(),
  createdAt: z.number(),
  notBefore: z.number(),
  expiresAt: z.number(),
  sentAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
});
const progress = z.object({ id: z.number(), name: z.string(), total: z.number(), states: z.record(z.string(), z.number()), done: z.number() });

export function commandRoutes(app: FleetApp, ctx: FleetContext): void {
  const expiry = (minutes: number | undefined) => (minutes ?? ctx.config.checks.commandExpiryMinutes) * 60_000;

  app.post('/api/commands', {
    config: { allow: WORKERS, audit: 'command.send' },
    schema: {
      summary:
        'Set an attribute of a device remotely: created -> sent -> succeeded / failed / rejected (with the reason) / timed out; expires unsent while its gateway is offline',
      body: z.strictObject({
        gatewayId: z.string().min(1).max(128),
        deviceRef: z.string().min(1).max(128),
        attribute: z.string().min(1).max(128),
        value,
        expiresInMinutes: z.number().positive().max(43_200).optional(),
      }),
      response: { 201: commandSchema },
    },
    handler: async (req, reply) => {
      const u = who(req);
      await mayTouch(ctx.db, u, req.body);
      const [device] = await ctx.db.query<{ access: string; commands: string[] }>(
        'SELECT access, commands FROM devices WHERE gateway_id = $1 AND device_ref = $2',
        [req.body.gatewayId, req.body.deviceRef],
      );
      if (device?.access !== 'granted') throw new HttpError(400, `deviceRef: ${req.body.deviceRef} is not a granted device of ${req.body.gatewayId}`);
      const now = ctx.now();
      const c = await createCommand(ctx.db, { ...req.body, createdBy: actorOf(u), expiresAt: now + expiry(req.body.expiresInMinutes) }, now);
      return reply.code(201).send(c);
    },
  });

  app.get('/api/commands', {
    config: { allow: OPERATIONS },
    schema: {
      summary: 'Commands, newest first',
      querystring: z.object({ gatewayId: z.string().max(128).optional(), jobId: z.coerce.number().int().optional() }),
      response: { 200: z.array(commandSchema) },
    },
    handler: (req) => listCommands(ctx.db, req.query),
  });

  app.get('/api/commands/:requestId', {
    config: { allow: WORKERS },
    schema: { summary: 'One command and its result', params: z.object({ requestId: z.string().max(64) }), response: { 200: commandSchema } },
    handler: async (req) => {
      const c = await command(ctx.db, req.params.requestId);
      if (!c) throw new HttpError(404, `no command ${req.params.requestId}`);
      await mayTouch(ctx.db, who(req), c);
      return c;
    },
  });

  app.post('/api/jobs', {
    config: { allow: OPERATIONS, audit: 'job.start' },
    schema: {
      summary: 'A bulk command: every granted device matching the filter that the provider may set the attribute of, at a local time of each site',
      body: z.strictObject({
        name: z.string().min(1).max(200),
        attribute: z.string().min(1).max(128),
        value,
        filter: z.strictObject({
          model: z.string().max(128).optional(),
          kind: z.string().max(128).optional(),
          gatewayIds: z.array(z.string().max(128)).max(10_000).optional(),
        }),
        localTime: z
          .string()
          .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM')
          .optional(),
        expiresInMinutes: z.number().positive().max(43_200).optional(),
      }),
      response: { 201: progress },
    },
    handler: async (req, reply) => {
      const now = ctx.now();
      const { id } = await ctx.db.transaction((tx) =>
        createJob(tx, { ...req.body, expiresAfterMs: expiry(req.body.expiresInMinutes), createdBy: actorOf(who(req)) }, now),
      );
      return reply.code(201).send((await jobProgress(ctx.db, id)) as JobProgress);
    },
  });

  app.get('/api/jobs/:id', {
    config: { allow: OPERATIONS },
    schema: { summary: "A bulk job's progress: commands per state", params: z.object({ id: z.coerce.number().int() }), response: { 200: progress } },
    handler: async (req) => {
      const p = await jobProgress(ctx.db, req.params.id);
      if (!p) throw new HttpError(404, `no job ${req.params.id}`);
      return p;
    },
  });

  app.post('/api/diagnostics', {
    config: { allow: WORKERS, audit: 'diagnostics.ask' },
    schema: {
      summary: 'Ask a device for a diagnostic snapshot (its attributes and last hour of readings), where the owner granted telemetry',
      body: z.strictObject({ gatewayId: z.string().min(1).max(128), deviceRef: z.string().min(1).max(128) }),
      response: { 201: z.object({ requestId: z.string() }) },
    },
    handler: async (req, reply) => {
      const u = who(req);
      await mayTouch(ctx.db, u, req.body);
      const requestId = `d-${randomBytes(9).toString('base64url')}`;
      await ctx.db.query('INSERT INTO diagnostics (request_id, gateway_id, device_ref, requested_by, created_at) VALUES ($1, $2, $3, $4, $5)', [
        requestId,
        req.body.gatewayId,
        req.body.deviceRef,
        actorOf(u),
        ctx.now(),
      ]);
      return reply.code(201).send({ requestId });
    },
  });

  app.get('/api/diagnostics/:requestId', {
    config: { allow: WORKERS },
    schema: {
      summary: 'A diagnostic snapshot, once the gateway answered',
      params: z.object({ requestId: z.string().max(64) }),
      response: {
        200: z.object({
          requestId: z.string(),
          gatewayId: z.string(),
          deviceRef: z.string(),
          status: z.string().nullable(),
          answeredAt: z.number().nullable(),
          data: z.unknown(),
        }),
      },
    },
    handler: async (req) => {
      const [d] = await ctx.db.query<{
        requestId: string;
        gatewayId: string;
        deviceRef: string;
        status: string | null;
        answeredAt: number | null;
        data: unknown;
      }>(
        `SELECT request_id AS "requestId", gateway_id AS "gatewayId", device_ref AS "deviceRef", status, answered_at AS "answeredAt", data FROM diagnostics WHERE request_id = $1`,
        [req.params.requestId],
      );
      if (!d) throw new HttpError(404, `no diagnostic request ${req.params.requestId}`);
      await mayTouch(ctx.db, who(req), d);
      return d;
    },
  });
}
