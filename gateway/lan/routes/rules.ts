import * as z from 'zod';
import { TEXT_FILE_MAX_BYTES } from '../../boundedRead.ts';
import { ruleWords } from '../../../rules/words.ts';
import { registryNames } from './ruleBuilder.ts';
import { ruleFileIo } from './ruleFileIo.ts';
import type { App, LanContext } from '../context.ts';
import { atLeast } from '../../store/people.ts';
import { actor } from '../auth.ts';

const problem = z.object({ error: z.string(), message: z.string() });
// A 400 is either the checker's problems or a malformed body (`body.text: ...`, no problems list).
const ruleProblems = problem.extend({ problems: z.array(z.object({ where: z.string(), message: z.string() })).optional() });
const ruleView = z.object({
  id: z.string(),
  name: z.string().optional(),
  enabled: z.boolean(),
  protected: z.boolean(),
  lastFiredAt: z.number().nullable(),
  /** the rule in plain words, with the names people gave their devices */
  words: z.string(),
});

/**
 * Rules through the API edit the same YAML file the gateway watches: a new text is checked first (the
 * checker's file:line:column problems come back as a 400), then written atomically and activated.
 * Enabling or disabling one rule edits only its `enabled:` key, keeping comments and layout.
 * Protected rules can be changed only by the owner.
 */
export function ruleRoutes(app: App, ctx: LanContext): void {
  const { read, write } = ruleFileIo(ctx);
  const names = registryNames(ctx.registry);
  const list = () =>
    ctx.rules.list().map((r) => {
      const def = ctx.rules.definition(r.id);
      return { ...r, lastFiredAt: ctx.rules.traces(r.id).at(-1)?.at ?? null, words: def ? ruleWords(def, names) : '' };
    });

  app.get('/api/rules', {
    config: { access: 'guest' },
    schema: {
      summary: 'The rule file, its active rules, and the problems of the last edit if it was refused',
      response: { 200: z.object({ text: z.string(), rules: z.array(ruleView), problems: z.string().nullable() }) },
    },
    handler: async () => ({ text: read(), rules: list(), problems: ctx.ruleFile.lastProblems ?? null }),
  });

  app.put('/api/rules', {
    config: { access: 'owner' },
    schema: {
      summary: "Replace the rule file; refused with the checker's problems when it has any",
      body: z.strictObject({ text: z.string().max(TEXT_FILE_MAX_BYTES) }),
      response: { 200: z.object({ ok: z.literal(true), count: z.number().int() }), 400: ruleProblems },
    },
    handler: async (req, reply) => {
      const result = await ctx.rules.check(req.body.text, ctx.rulesFile);
      if (!result.ok) {
        return reply
          .code(400)
          .send({ error: 'rules_invalid', message: `${result.problems.length} problem(s); the previous rules keep running`, problems: result.problems });
      }
      await write(req.body.text, result.data);
      ctx.audit.append(actor(req), 'lan.rules.replace', ctx.rulesFile, { rules: result.count, bytes: req.body.text.length });
      return { ok: true as const, count: result.count };
    },
  });

  app.patch('/api/rules/:id', {
    config: { access: 'member' },
    schema: {
      summary: 'Enable or disable one rule',
      params: z.object({ id: z.string().min(1) }),
      body: z.strictObject({ enabled: z.boolean() }),
      response: { 200: ruleView, 403: problem, 404: problem, 400: ruleProblems },
    },
    handler: async (req, reply) => {
      const rule = ctx.rules.list().find((r) => r.id === req.params.id);
      if (!rule) return reply.code(404).send({ error: 'not_found', message: `no active rule "${req.params.id}"` });
      const role = (req.session as NonNullable<typeof req.session>).user.role;
      if (rule.protected && !atLeast(role, 'owner'))
        return reply.code(403).send({ error: 'forbidden', message: `rule "${rule.id}" is protected: only the owner may change it` });
      const edited = await ctx.rules.setEnabled(read(), ctx.rulesFile, req.params.id, req.body.enabled);
      if (!edited.ok && edited.notFound) return reply.code(404).send({ error: 'not_found', message: `rule "${req.params.id}" is not in ${ctx.rulesFile}` });
      if (!edited.ok) return reply.code(400).send({ error: 'rules_invalid', message: 'the rule file has problems', problems: edited.problems });
      const checked = await ctx.rules.check(edited.text, ctx.rulesFile);
      if (!checked.ok) return reply.code(400).send({ error: 'rules_invalid', message: 'the rule file has problems', problems: checked.problems });
      await write(edited.text, checked.data);
      ctx.audit.append(actor(req), 'lan.rule.enabled', req.params.id, { enabled: req.body.enabled });
      return list().find((r) => r.id === req.params.id) as z.infer<typeof ruleView>;
    },
  });

  app.get('/api/rules/:id/traces', {
    config: { access: 'guest' },
    schema: {
      summary: 'Why did this run: the last firings of a rule, newest first',
      params: z.object({ id: z.string().min(1) }),
      response: {
        200: z.array(
          z.object({
            at: z.number(),
            trigger: z.string(),
            conditions: z.array(z.object({ text: z.string(), result: z.boolean() })),
            commands: z.array(z.string()),
            outcome: z.string(),
          }),
        ),
      },
    },
    handler: async (req) =>
      [...ctx.rules.traces(req.params.id)]
        .reverse()
        .map((t) => ({ at: t.at, trigger: t.trigger, conditions: [...t.conditions], commands: t.commands, outcome: t.outcome })),
  });
}
