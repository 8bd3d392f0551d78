import { parentPort } from 'node:worker_threads';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { AttributeSpec } from '../../drivers/types.ts';
import { checkRulesText } from '../../rules/load.ts';
import type { TariffDef } from '../../rules/schema.ts';
import { YAML_LIMITS, parseLocatedYaml } from '../../rules/yamlLocate.ts';

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
  | { readonly op: 'setEnabled'; readonly text: string; readonly file: string; readonly ruleId: string; readonly enabled: boolean };

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
  // Edits only the rule's `enabled:` key with yaml's document API, keeping comments and layout.
  const checked = parseLocatedYaml(req.text); // the same limits as a check, before the document API sees it
  if (checked.errors.length > 0) return { ok: false, problems: checked.errors.map((e) => ({ where: `${req.file}:${e.line}:${e.col}`, message: e.message })) };
  const doc = parseDocument(req.text);
  const rules = doc.get('rules');
  const item = isSeq(rules) ? rules.items.find((i) => isMap(i) && i.get('id') === req.ruleId) : undefined;
  if (!isMap(item)) return { ok: false, notFound: true, problems: [{ where: req.file, message: `rule "${req.ruleId}" is not in the file` }] };
  item.set('enabled', req.enabled);
  return { ok: true, text: doc.toString() };
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
