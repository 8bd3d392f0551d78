import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { isTrellisError } from '../../errors.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';

const problem = z.object({ error: z.string(), message: z.string() });

/**
 * Backups from the app, the owner's alone and audited: the automatic backups' state, "back up now"
 * (into `backup.dir`), and a download sealed with a passphrase the owner types (never stored).
 */
export function backupRoutes(app: App, ctx: LanContext): void {
  app.get('/api/backup', {
    config: { access: 'owner' },
    schema: {
      summary: 'Automatic backups: on or off, where, the next and last run, the files kept',
      response: {
        200: z.object({
          enabled: z.boolean(),
          dir: z.string().nullable(),
          nextAt: z.number().nullable(),
          lastAt: z.number().nullable(),
          lastError: z.string().nullable(),
          kept: z.array(z.object({ name: z.string(), bytes: z.number() })),
        }),
      },
    },
    handler: async () => {
      const s = ctx.backups.status();
      return { ...s, kept: [...s.kept] };
    },
  });

  app.post('/api/backup/now', {
    config: { access: 'owner' },
    schema: {
      summary: 'Write an automatic backup now (into backup.dir) and prune the old ones',
      response: { 200: z.object({ ok: z.literal(true), counts: z.record(z.string(), z.number()) }), 409: problem, 500: problem },
    },
    handler: async (req, reply) => {
      if (!ctx.backups.enabled)
        return reply.code(409).send({ error: 'backups_off', message: 'automatic backups are off: set backup.dir and backup.passphraseFile in the config' });
      try {
        const m = await ctx.backups.runNow();
        ctx.audit.append(actor(req), 'lan.backup', null, { counts: m.counts });
        return { ok: true as const, counts: { ...m.counts } };
      } catch (err) {
        return reply.code(500).send({ error: 'backup_failed', message: (err as Error).message });
      }
    },
  });

  app.post('/api/backup/download', {
    config: { access: 'owner' },
    schema: {
      summary: 'Download a backup sealed with this passphrase (at least 8 characters; keep it: without it the file cannot be opened)',
      body: z.strictObject({ passphrase: z.string().min(8, { error: 'expected at least 8 characters' }).max(1024), history: z.boolean().optional() }),
    },
    handler: async (req, reply) => {
      const dir = join(ctx.dataDir, 'downloads');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date(ctx.clock.now())
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
      const name = `trellis-backup-${stamp}.tbk`;
      const file = join(dir, `${process.pid}-${Date.now()}-${name}`);
      try {
        const m = await ctx.backups.write(file, req.body.passphrase, req.body.history ?? false);
        ctx.audit.append(actor(req), 'lan.backup.download', null, { history: m.history, counts: m.counts });
      } catch (err) {
        rmSync(file, { force: true });
        if (isTrellisError(err))
          return reply
            .code(400)
            .type('application/json')
            .send(JSON.stringify({ error: 'backup_failed', message: err.message }));
        throw err;
      }
      const stream = createReadStream(file);
      stream.once('close', () => rmSync(file, { force: true }));
      return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${name}"`).send(stream);
    },
  });
}
