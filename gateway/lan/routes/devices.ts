import * as z from 'zod';
import { opensAccess } from '../../../rules/access.ts';
import { ErrorCodes, isTrellisError } from '../../errors.ts';
import type { RegisteredDevice } from '../../store/registry.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';
import { usageBucketSchema } from '../../../protocol/index.ts';

const value = z.union([z.number(), z.boolean(), z.string()]);
const attribute = z.object({
  type: z.enum(['number', 'boolean', 'string']),
  unit: z.string().optional(),
  deviceClass: z.string().optional(),
  writable: z.boolean(),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().optional(),
  name: z.string().optional(),
  options: z.array(z.string()).readonly().optional(),
  commands: z.array(z.string()).readonly().optional(),
  momentary: z.boolean().optional(),
  value: value.nullable(),
  ts: z.number().nullable(),
});
const device = z.object({
  id: z.string(),
  name: z.string(),
  protocol: z.string(),
  room: z.string().nullable(),
  tags: z.array(z.string()),
  manufacturer: z.string().optional(),
  model: z.string().optional(),
  online: z.boolean(),
  attributes: z.record(z.string(), attribute),
});
const problem = z.object({ error: z.string(), message: z.string() });
const idParam = z.object({ id: z.string().min(1).max(64) });
const DAY = 86_400_000;

export function deviceRoutes(app: App, ctx: LanContext): void {
  const meta = ctx.deviceMeta;
  const view = (d: RegisteredDevice): z.infer<typeof device> => ({
    id: d.id,
    name: d.name,
    protocol: d.protocol,
    room: meta.room(d.id),
    tags: meta.tags(d.id),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.model ? { model: d.model } : {}),
    online: ctx.hub.state.isOnline(d.id),
    attributes: Object.fromEntries(
      Object.entries(d.attributes).map(([name, spec]) => {
        const cached = ctx.hub.state.attributes(d.id).get(name);
        return [name, { ...dropUndefined(spec), value: cached?.value ?? null, ts: cached?.ts ?? null }];
      }),
    ),
  });
  const find = (id: string) => ctx.registry.get(id);
  const missing = (id: string) => ({ error: 'not_found', message: `no device "${id}"` });

  app.get('/api/devices', {
    config: { access: 'guest' },
    schema: { summary: 'Every device with its live state', response: { 200: z.array(device) } },
    handler: async () => [...ctx.registry.all()].map(view).sort((a, b) => a.name.localeCompare(b.name)),
  });

  app.get('/api/devices/:id', {
    config: { access: 'guest' },
    schema: { summary: 'One device with its live state', params: idParam, response: { 200: device, 404: problem } },
    handler: async (req, reply) => {
      const d = find(req.params.id);
      return d ? view(d) : reply.code(404).send(missing(req.params.id));
    },
  });

  app.patch('/api/devices/:id', {
    config: { access: 'member' },
    schema: {
      summary: 'Put a device in a room; tag it (grants can name devices by tag)',
      params: idParam,
      body: z.strictObject({
        room: z.string().trim().min(1).max(64).nullable().optional(),
        tags: z
          .array(z.string().regex(/^[a-z0-9_-]{1,32}$/))
          .max(20)
          .optional(),
      }),
      response: { 200: device, 404: problem },
    },
    handler: async (req, reply) => {
      const d = find(req.params.id);
      if (!d) return reply.code(404).send(missing(req.params.id));
      if (req.body.room !== undefined) meta.setRoom(d.id, req.body.room);
      if (req.body.tags !== undefined) meta.setTags(d.id, req.body.tags);
      ctx.audit.append(actor(req), 'lan.device.update', d.id, req.body);
      return view(d);
    },
  });

  app.post('/api/devices/:id/commands', {
    config: { access: 'member' },
    schema: {
      summary: 'Set an attribute (switch, dimmer, setpoint, mode); unlocking a lock or opening a garage door or gate needs `confirm: true`',
      params: idParam,
      body: z.strictObject({ attribute: z.string().min(1), value, confirm: z.boolean().optional() }),
      response: { 202: z.object({ ok: z.literal(true) }), 400: problem, 404: problem, 428: problem },
    },
    handler: async (req, reply) => {
      const d = find(req.params.id);
      if (!d) return reply.code(404).send(missing(req.params.id));
      const { attribute, value: v } = req.body;
      if (opensAccess(d.attributes[attribute], v)) {
        // a way in: the phone asks first (slide to unlock) and says so; every attempt is in the audit log
        const confirmed = req.body.confirm === true;
        ctx.audit.append(actor(req), confirmed ? 'lan.unlock' : 'lan.unlock.unconfirmed', d.id, { attribute, value: v });
        if (!confirmed)
          return reply.code(428).send({
            error: 'confirmation_required',
            message: `${d.id}.${attribute} = ${JSON.stringify(v)} unlocks or opens a way in: send confirm: true once the person has confirmed`,
          });
      }
      try {
        await ctx.hub.command({ deviceId: d.id, attribute, value: v });
        ctx.audit.append(actor(req), 'lan.command', d.id, { attribute, value: v });
        return reply.code(202).send({ ok: true });
      } catch (err) {
        if (isTrellisError(err) && err.code === ErrorCodes.command) return reply.code(400).send({ error: 'bad_command', message: err.message });
        throw err;
      }
    },
  });

  app.get('/api/devices/:id/history', {
    config: { access: 'guest' },
    schema: {
      summary: "An attribute's history, downsampled on the gateway to at most `points` min/mean/max points",
      params: idParam,
      querystring: z.object({
        attribute: z.string().min(1),
        from: z.coerce.number().int().optional(),
        to: z.coerce.number().int().optional(),
        points: z.coerce.number().int().min(1).max(2000).default(200),
      }),
      response: {
        200: z.object({
          attribute: z.string(),
          unit: z.string().nullable(),
          from: z.number(),
          to: z.number(),
          points: z.array(z.object({ t: z.number(), min: z.number(), mean: z.number(), max: z.number(), n: z.number() })),
        }),
        404: problem,
      },
    },
    handler: async (req, reply) => {
      const d = find(req.params.id);
      const seriesId = d?.seriesIds[req.query.attribute];
      if (!d || seriesId === undefined)
        return reply.code(404).send({ error: 'not_found', message: `no attribute "${req.query.attribute}" on device "${req.params.id}"` });
      const to = req.query.to ?? ctx.clock.now();
      const from = req.query.from ?? to - DAY;
      return {
        attribute: req.query.attribute,
        unit: d.attributes[req.query.attribute]?.unit ?? null,
        from,
        to,
        points: ctx.history.points(seriesId, from, to, req.query.points),
      };
    },
  });

  app.get('/api/devices/:id/usage', {
    config: { access: 'guest' },
    schema: {
      summary: 'Closed hourly usage buckets and their totals per day (energy Wh, cups, on-time s)',
      params: idParam,
      querystring: z.object({ from: z.coerce.number().int().optional(), to: z.coerce.number().int().optional() }),
      response: {
        200: z.object({ buckets: z.array(usageBucketSchema), daily: z.array(z.object({ day: z.string(), totals: z.record(z.string(), z.number()) })) }),
        404: problem,
      },
    },
    handler: async (req, reply) => {
      if (!find(req.params.id)) return reply.code(404).send(missing(req.params.id));
      const to = req.query.to ?? ctx.clock.now() + 1;
      return ctx.history.usage(req.params.id, req.query.from ?? to - 7 * DAY, to);
    },
  });
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
