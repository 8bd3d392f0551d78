import { type Document, isMap, isSeq, parseDocument, YAMLMap, type YAMLSeq } from 'yaml';

/**
 * Edits of a rule file through yaml's document API, so the rest of the file (comments, layout,
 * hand-written rules) is kept as it was: the rule builder's saves, switching a rule on or off, scenes.
 * Run on the rule worker (YAML is never parsed on the gateway's event loop). The result is checked
 * like any other text before it is written.
 */
export type RuleEdit =
  | { readonly kind: 'enable'; readonly ruleId: string; readonly enabled: boolean }
  /** replaces the rule `ruleId` (or adds it at the end); the new rule may have another id (a rename) */
  | { readonly kind: 'putRule'; readonly ruleId: string; readonly rule: Readonly<Record<string, unknown>> }
  | { readonly kind: 'deleteRule'; readonly ruleId: string }
  | { readonly kind: 'putScene'; readonly name: string; readonly steps: ReadonlyArray<Readonly<Record<string, unknown>>> }
  | { readonly kind: 'deleteScene'; readonly name: string };

export type EditResult = { ok: true; text: string } | { ok: false; notFound: boolean; message: string };

function seqOf(doc: Document, key: string): YAMLSeq | undefined {
  const node = doc.get(key, true);
  if (node === undefined || node === null) return undefined;
  return isSeq(node) ? node : undefined;
}

export function applyRuleEdit(text: string, edit: RuleEdit): EditResult {
  const doc = parseDocument(text.trim() === '' ? '{}' : text);
  if (doc.contents !== null && !isMap(doc.contents)) return { ok: false, notFound: false, message: 'the rule file is not a mapping of scenes and rules' };
  if (doc.contents === null) doc.contents = new YAMLMap() as never;
  const rules = seqOf(doc, 'rules');
  const indexOf = (id: string) => (rules ? rules.items.findIndex((i) => isMap(i) && i.get('id') === id) : -1);
  const missing = (what: string) => ({ ok: false as const, notFound: true, message: `${what} is not in the file` });
  switch (edit.kind) {
    case 'enable': {
      const at = indexOf(edit.ruleId);
      if (at < 0) return missing(`rule "${edit.ruleId}"`);
      ((rules as YAMLSeq).items[at] as YAMLMap).set('enabled', edit.enabled);
      break;
    }
    case 'putRule': {
      const newId = edit.rule.id;
      if (typeof newId === 'string' && newId !== edit.ruleId && indexOf(newId) >= 0)
        return { ok: false, notFound: false, message: `a rule "${newId}" exists already: choose another name` };
      const node = doc.createNode(edit.rule);
      const at = indexOf(edit.ruleId);
      if (rules && at >= 0) {
        const old = rules.items[at] as YAMLMap;
        node.commentBefore = old.commentBefore; // the comment above a rule stays with it
        node.comment = old.comment;
        rules.items[at] = node;
      } else if (rules) rules.items.push(node);
      else doc.set('rules', doc.createNode([edit.rule]));
      break;
    }
    case 'deleteRule': {
      const at = indexOf(edit.ruleId);
      if (at < 0 || !rules) return missing(`rule "${edit.ruleId}"`);
      rules.items.splice(at, 1);
      break;
    }
    case 'putScene': {
      const scenes = doc.get('scenes', true);
      if (scenes !== undefined && scenes !== null && !isMap(scenes))
        return { ok: false, notFound: false, message: 'scenes: expected a mapping of scene names' };
      if (isMap(scenes)) scenes.set(edit.name, doc.createNode(edit.steps));
      else doc.set('scenes', doc.createNode({ [edit.name]: edit.steps }));
      break;
    }
    case 'deleteScene': {
      const scenes = doc.get('scenes', true);
      if (!isMap(scenes) || !scenes.has(edit.name)) return missing(`scene "${edit.name}"`);
      scenes.delete(edit.name);
      break;
    }
  }
  // flow collections as people write them (`{device: x}`, not `{ device: x }`), lines never folded
  return { ok: true, text: doc.toString({ lineWidth: 0, flowCollectionPadding: false }) };
}
