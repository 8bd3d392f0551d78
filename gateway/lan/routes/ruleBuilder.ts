import * as z from 'zod';
import type { AttributeValue } from '../../../drivers/types.ts';
import { opensAccess } from '../../../rules/access.ts';
import { ruleSchema } from '../../../rules/schema.ts';
import { type Names, ruleWords } from '../../../rules/words.ts';
import type { DeviceRegistry } from '../../store/registry.ts';
import { ErrorCodes, isTrellisError } from '../../errors.ts';
import type { App, LanContext } from '../context.ts';
import { actor } from '../auth.ts';
import { ruleFileIo } from './ruleFileIo.ts';

const problem = z.object({ error: z.string(), message: z.string() });
const problems = problem.extend({ problems: z.array(z.object({ where: z.string(), message: z.string() })).optional() });
const idParam = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: 'expected lower-case letters, digits, _ and - (1-64)' }) });
const nameParam = z.object({ name: idParam.shape.id });
const value = z.union([z.number(), z.boolean(), z.string()]);
const step = z.strictObject({ device: z.string().min(1), attribute: z.string().min(1), value });

/** What people call their devices and attributes, for rules in words. */
export function registryNames(registry: DeviceRegistry): Names {
  return {
    device: (id) => registry.get(id)?.name ?? id,
    attribute: (d, a) => (registry.get(d)?.attributes[a]?.name ?? a.replace(/_/g, ' ')).toLowerCase(),
  };
}

/** A state as a scene step sets it: a lock that is `locked` is set with `lock`, a blind that is `closed` with `close`. */
const STATE_TO_COMMAND: Record<string, string> = { locked: 'lock', unlocked: 'unlock', open: 'open', closed: 'close' };

/**
 * The rule builder's side of the API: a rule as JSON is put into (or taken out of) the same YAML file
 * by yaml's document API (comments and hand-written rules kept), checked as a whole file first, and
 * answered with the checker's verdict and the rule in plain words; `dryRun` checks without saving.
 * Scenes: put, deleted, captured from the current state of chosen devices, and run.
 */
export function ruleBuilderRoutes(app: App, ctx: LanContext): void {
  const { editAndSave } = ruleFileIo(ctx);
  const names = registryNames(ctx.registry);
  const invalid = (message: string, list: Array<{ where: string; message: string }>) => ({ error: 'rules_invalid', message, problems: list });

  app.get('/api/rules/items/:id', {
    config: { access: 'guest' },
    schema: {
      summary: 'One active rule as the builder edits it, and in words',
      params: idParam,
      response: { 200: z.object({ rule: z.record(z.string(), z.unknown()), words: z.string() }), 404: problem },
    },
    handler: async (req, reply) => {
      const def = ctx.rules.definition(req.params.id);
      if (!def) return reply.code(404).send({ error: 'not_found', message: `no active rule "${req.params.id}"` });
      return { rule: def as unknown as Record<string, unknown>, words: ruleWords(def, names) };
    },
  });

  app.put('/api/rules/items/:id', {
    config: { access: 'owner' },
    schema: {
      summary:
        "Save one rule from the builder (replacing the rule with this id, or added at the end); the checker's verdict and the rule in words come back. dryRun: check only",
      params: idParam,
      body: z.strictObject({ rule: z.record(z.string(), z.unknown()), dryRun: z.boolean().optional() }),
      response: {
        200: z.object({ ok: z.literal(true), saved: z.boolean(), words: z.string(), unlocks: z.boolean() }),
        400: problems,
      },
    },
    handler: async (req, reply) => {
      const parsed = ruleSchema.safeParse(req.body.rule);
      if (!parsed.success) {
        const list = parsed.error.issues.map((i) => ({ where: ['rule', ...i.path].join('.'), message: i.message }));
        return reply.code(400).send(invalid(`${list.length} problem(s) in the rule`, list));
      }
      const r = await editAndSave({ kind: 'putRule', ruleId: req.params.id, rule: req.body.rule }, req.body.dryRun === true);
      if (!r.ok) return reply.code(400).send(invalid(`${r.problems.length} problem(s); nothing was saved`, r.problems));
      if (req.body.dryRun !== true) ctx.audit.append(actor(req), 'lan.rule.put', parsed.data.id, { replaced: req.params.id });
      return { ok: true as const, saved: req.body.dryRun !== true, words: ruleWords(parsed.data, names), unlocks: r.unlocking.includes(parsed.data.id) };
    },
  });

  app.delete('/api/rules/items/:id', {
    config: { access: 'owner' },
    schema: {
      summary: 'Delete one rule from the rule file',
      params: idParam,
      response: { 200: z.object({ ok: z.literal(true) }), 400: problems, 404: problem },
    },
    handler: async (req, reply) => {
      const r = await editAndSave({ kind: 'deleteRule', ruleId: req.params.id });
      if (!r.ok && r.notFound) return reply.code(404).send({ error: 'not_found', message: `rule "${req.params.id}" is not in the rule file` });
      if (!r.ok) return reply.code(400).send(invalid('the rule file would have problems', r.problems));
      ctx.audit.append(actor(req), 'lan.rule.delete', req.params.id, {});
      return { ok: true as const };
    },
  });

  app.get('/api/scenes', {
    config: { access: 'guest' },
    schema: {
      summary: "The rule file's scenes, and the tariff names conditions may use",
      response: { 200: z.object({ scenes: z.record(z.string(), z.array(step)), tariffs: z.array(z.string()) }) },
    },
    handler: async () => ({ scenes: ctx.rules.scenes() as Record<string, Array<z.infer<typeof step>>>, tariffs: ctx.rules.tariffNames() }),
  });

  const saveScene = async (req: { params: { name: string } }, steps: Array<z.infer<typeof step>>) =>
    editAndSave({ kind: 'putScene', name: req.params.name, steps });

  app.put('/api/scenes/:name', {
    config: { access: 'owner' },
    schema: {
      summary: 'Save a scene (what it sets)',
      params: nameParam,
      body: z.strictObject({ steps: z.array(step).min(1).max(100) }),
      response: { 200: z.object({ ok: z.literal(true) }), 400: problems },
    },
    handler: async (req, reply) => {
      const r = await saveScene(req, req.body.steps);
      if (!r.ok) return reply.code(400).send(invalid(`${r.problems.length} problem(s); nothing was saved`, r.problems));
      ctx.audit.append(actor(req), 'lan.scene.put', req.params.name, { steps: req.body.steps.length });
      return { ok: true as const };
    },
  });

  app.delete('/api/scenes/:name', {
    config: { access: 'owner' },
    schema: {
      summary: 'Delete a scene (refused while a rule runs it)',
      params: nameParam,
      response: { 200: z.object({ ok: z.literal(true) }), 400: problems, 404: problem },
    },
    handler: async (req, reply) => {
      const r = await editAndSave({ kind: 'deleteScene', name: req.params.name });
      if (!r.ok && r.notFound) return reply.code(404).send({ error: 'not_found', message: `no scene "${req.params.name}"` });
      if (!r.ok) return reply.code(400).send(invalid('a rule still runs this scene', r.problems));
      ctx.audit.append(actor(req), 'lan.scene.delete', req.params.name, {});
      return { ok: true as const };
    },
  });

  app.post('/api/scenes/:name/capture', {
    config: { access: 'owner' },
    schema: {
      summary: 'Save as a scene what the chosen devices are set to now (their writable attributes)',
      params: nameParam,
      body: z.strictObject({ devices: z.array(z.string().min(1)).min(1).max(50) }),
      response: { 200: z.object({ ok: z.literal(true), steps: z.array(step) }), 400: problems },
    },
    handler: async (req, reply) => {
      const steps: Array<z.infer<typeof step>> = [];
      for (const id of req.body.devices) {
        const d = ctx.registry.get(id);
        if (!d) return reply.code(400).send(invalid(`no device "${id}"`, [{ where: 'devices', message: `no device "${id}"` }]));
        const state = ctx.hub.state.attributes(id);
        for (const [attribute, spec] of Object.entries(d.attributes)) {
          const current = state.get(attribute)?.value as AttributeValue | undefined;
          if (!spec.writable || spec.momentary || current === undefined || current === null) continue;
          const v = spec.commands && typeof current === 'string' ? STATE_TO_COMMAND[current] : current;
          if (v === undefined || (spec.commands && !spec.commands.includes(String(v)))) continue; // moving, jammed: no state to go back to
          steps.push({ device: id, attribute, value: v });
        }
      }
      if (steps.length === 0)
        return reply.code(400).send(invalid('nothing to capture', [{ where: 'devices', message: 'none of these devices has a setting with a known value' }]));
      const r = await saveScene(req, steps);
      if (!r.ok) return reply.code(400).send(invalid(`${r.problems.length} problem(s); nothing was saved`, r.problems));
      ctx.audit.append(actor(req), 'lan.scene.capture', req.params.name, { steps: steps.length });
      return { ok: true as const, steps };
    },
  });

  app.post('/api/scenes/:name/run', {
    config: { access: 'member' },
    schema: {
      summary: 'Run a scene now; one that unlocks or opens a way in needs confirm: true',
      params: nameParam,
      body: z.strictObject({ confirm: z.boolean().optional() }),
      response: { 200: z.object({ ok: z.literal(true), sent: z.number(), failed: z.array(z.string()) }), 404: problem, 428: problem },
    },
    handler: async (req, reply) => {
      const steps = ctx.rules.scenes()[req.params.name];
      if (!steps) return reply.code(404).send({ error: 'not_found', message: `no scene "${req.params.name}"` });
      const opens = steps.filter((s) => opensAccess(ctx.registry.get(s.device)?.attributes[s.attribute], s.value));
      if (opens.length > 0) {
        ctx.audit.append(actor(req), req.body.confirm ? 'lan.unlock' : 'lan.unlock.unconfirmed', opens[0]?.device ?? null, { scene: req.params.name });
        if (!req.body.confirm)
          return reply.code(428).send({
            error: 'confirmation_required',
            message: `scene ${req.params.name} unlocks or opens a way in: send confirm: true once the person has confirmed`,
          });
      }
      const failed: string[] = [];
      for (const s of steps) {
        try {
          await ctx.hub.command({ deviceId: s.device, attribute: s.attribute, value: s.value });
        } catch (err) {
          if (!isTrellisError(err) || err.code !== ErrorCodes.command) throw err;
          failed.push(`${s.device}.${s.attribute}: ${err.message}`);
        }
      }
      ctx.audit.append(actor(req), 'lan.scene.run', req.params.name, { sent: steps.length - failed.length, failed: failed.length });
      return { ok: true as const, sent: steps.length - failed.length, failed };
    },
  });
}
