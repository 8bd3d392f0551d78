import { parentPort } from 'node:worker_threads';
import type { AttributeSpec } from '../../drivers/types.ts';
import { checkRulesText } from '../../rules/load.ts';
import type { TariffDef } from '../../rules/schema.ts';
import { YAML_LIMITS, parseLocatedYaml } from '../../rules/yamlLocate.ts';
import { applyRuleEdit, type RuleEdit } from './ruleEdits.ts';

/** What the gateway asks of a rule worker (one request per worker; see RuleChecker). */
export type RuleWorkerRequest =
  | {
      readonly op: 'check';
      readonly text: string;
      readonly file: string;
      /** the devices Trellis knows: id -> attributes */
      readonly catalog: ReadonlyArray<readonly [string, Readonly<Record<string, AttributeSpec>>]>;
      readonly timezone: string;
      readonly tariffs: Readonly<Record<string, TariffDef>>;
      readonly cascadeLimit: number;
    }
  | { readonly op: 'edit'; readonly text: string; readonly file: string; readonly edit: RuleEdit };

export type RuleWorkerAnswer =
  | { readonly ok: true; readonly data: unknown; readonly count: number; readonly unlocking: readonly string[] }
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly problems: ReadonlyArray<{ where: string; message: string }>; readonly notFound?: boolean };

function answer(req: RuleWorkerRequest): RuleWorkerAnswer {
  if (req.op === 'check') {
    const catalog = new Map(req.catalog);
    const r = checkRulesText(req.text, req.file, {
      catalog: (id) => (catalog.has(id) ? { attributes: catalog.get(id) as Readonly<Record<string, AttributeSpec>> } : undefined),
      timezone: req.timezone,
      tariffs: req.tariffs,
      cascadeLimit: req.cascadeLimit,
    });
    return r.ok ? { ok: true, data: r.data, count: r.count, unlocking: r.unlocking } : { ok: false, problems: r.problems };
  }
  // An edit with yaml's document API (ruleEdits.ts), keeping comments and layout.
  const checked = parseLocatedYaml(req.text); // the same limits as a check, before the document API sees it
  if (checked.errors.length > 0) return { ok: false, problems: checked.errors.map((e) => ({ where: `${req.file}:${e.line}:${e.col}`, message: e.message })) };
  const r = applyRuleEdit(req.text, req.edit);
  return r.ok ? { ok: true, text: r.text } : { ok: false, notFound: r.notFound, problems: [{ where: req.file, message: r.message }] };
}

parentPort?.once('message', (req: RuleWorkerRequest) => {
  let out: RuleWorkerAnswer;
  try {
    out = answer(req);
  } catch (err) {
    out = {
      ok: false,
      problems: [
        {
          where: req.file,
          message: `cannot be checked: ${(err as Error).message} (limits: ${YAML_LIMITS.maxDepth} levels, ${YAML_LIMITS.maxAliasCount} aliases)`,
        },
      ],
    };
  }
  parentPort?.postMessage(out);
});
