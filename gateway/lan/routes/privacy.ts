import * as z from 'zod';
import { isTrellisError } from '../../errors.ts';
import { DATA_CLASSES, type Grant, grantAudit } from '../../store/grants.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';

const problem = z.object({ error: z.string(), message: z.string() });
const grant = z.object({
  id: z.number().int(),
  providerId: z.string(),
  devices: z.array(z.string()),
  classes: z.array(z.enum(DATA_CLASSES)),
  commands: z.array(z.string()),
  identity: z.boolean(),
  expiresAt: z.number().nullable(),
  createdAt: z.number(),
  revokedAt: z.number().nullable(),
});

/** A grant as the API shows it (plain arrays for the response schema). */
const view = (g: Grant) => ({ ...g, devices: [...g.devices], classes: [...g.classes], commands: [...g.commands] });

/** The owner's privacy controls: grants to service providers, the audit log, export and erase. */
export function privacyRoutes(app: App, ctx: LanContext): void {
  app.get('/api/grants', {
    config: { access: 'owner' },
    schema: {
      summary: 'Every grant, revoked ones included',
      response: { 200: z.object({ providers: z.array(z.object({ id: z.string(), name: z.string() })), grants: z.array(grant) }) },
    },
    handler: async () => ({ providers: ctx.grants.providers(), grants: ctx.grants.list(true).map(view) }),
  });

  app.post('/api/grants', {
    config: { access: 'owner' },
    schema: {
      summary: 'Grant a service provider (its broker username or certificate CN) devices, data classes and commands',
      body: z.strictObject({
        provider: z.string().min(1).max(64),
        providerName: z.string().min(1).max(100).optional(),
        devices: z.array(z.string().min(1)).min(1),
        classes: z.array(z.enum(DATA_CLASSES)).default([]),
        commands: z.array(z.string().min(1)).default([]),
        identity: z.boolean().default(false),
        expiresAt: z.number().int().nullable().default(null),
      }),
      response: { 200: grant, 400: problem },
    },
    handler: async (req, reply) => {
      try {
        const g = ctx.grants.add({
          providerId: req.body.provider,
          providerName: req.body.providerName,
          devices: req.body.devices,
          classes: req.body.classes,
          commands: req.body.commands,
          identity: req.body.identity,
          expiresAt: req.body.expiresAt,
        });
        ctx.audit.append(actor(req), 'grant.add', g.providerId, grantAudit(g));
        return view(g);
      } catch (err) {
        if (isTrellisError(err)) return reply.code(400).send({ error: 'bad_grant', message: err.message });
        throw err;
      }
    },
  });

  app.delete('/api/grants/:id', {
    config: { access: 'owner' },
    schema: {
      summary: 'Revoke a grant now (its queued, unsent records are purged)',
      params: z.object({ id: z.coerce.number().int() }),
      response: { 204: z.null(), 404: problem },
    },
    handler: async (req, reply) => {
      const g = ctx.grants.revoke(req.params.id);
      if (!g) return reply.code(404).send({ error: 'not_found', message: `no active grant ${req.params.id}` });
      ctx.audit.append(actor(req), 'grant.revoke', g.providerId, { grant: g.id });
      return reply.code(204).send(null);
    },
  });

  app.get('/api/audit', {
    config: { access: 'owner' },
    schema: {
      summary: 'The audit log, newest first, and whether its hash chain is intact',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), before: z.coerce.number().int().optional() }),
      response: {
        200: z.object({
          verified: z.object({ ok: z.boolean(), rows: z.number().optional(), id: z.number().optional(), reason: z.string().optional() }),
          entries: z.array(
            z.object({
              id: z.number(),
              at: z.number(),
              actor: z.string(),
              action: z.string(),
              subject: z.string().nullable(),
              details: z.string(),
              prevHash: z.string(),
              hash: z.string(),
            }),
          ),
        }),
      },
    },
    handler: async (req) => ({ verified: ctx.audit.verify(), entries: ctx.audit.list(req.query.limit, req.query.before) }),
  });

  app.get('/api/export', {
    config: { access: 'owner' },
    schema: { summary: 'Everything about the household as a zip (JSON + CSV)' },
    handler: async (req, reply) => {
      const zip = ctx.household.exportArchive(ctx.rulesFile);
      ctx.audit.append(actor(req), 'export', null, { bytes: zip.byteLength });
      const name = `trellis-export-${new Date().toISOString().slice(0, 10)}.zip`;
      return reply.type('application/zip').header('content-disposition', `attachment; filename="${name}"`).send(Buffer.from(zip));
    },
  });

  app.post('/api/erase', {
    config: { access: 'owner' },
    schema: {
      summary: "Erase history and usage: all, one device's, or before a date (overwritten, vacuumed)",
      body: z.strictObject({ deviceId: z.string().min(1).optional(), before: z.number().int().optional() }),
      response: { 200: z.object({ readings: z.number(), events: z.number(), usageBuckets: z.number() }) },
    },
    handler: async (req) => {
      ctx.writer.saveLastValues(); // else a noted last value could be written back after the erase
      const result = ctx.household.erase(req.body);
      ctx.audit.append(actor(req), 'erase', req.body.deviceId ?? null, { ...req.body, ...result });
      return result;
    },
  });
}
