import { basename } from 'node:path';
import type * as z from 'zod';
import { compileRules, type CompileOptions, type CompiledRules, type RuleProblem } from './compile.ts';
import { ruleFileSchema, type RuleFile } from './schema.ts';
import { parseLocatedYaml } from './yamlLocate.ts';

export type RulesResult =
  /** `unlocking`: the rules that may unlock a lock or open an entrance (they say allowUnlock: true) */
  { ok: true; rules: CompiledRules; data: RuleFile; count: number; unlocking: string[] } | { ok: false; problems: RuleProblem[] };

type Located = (path: ReadonlyArray<PropertyKey>, key?: string) => string;

/** Parses and validates a rule file's text (no device checks). `file` names the source in every problem. */
export function parseRulesText(text: string, file: string): { ok: true; data: RuleFile; where: Located } | { ok: false; problems: RuleProblem[] } {
  const name = basename(file);
  const yaml = parseLocatedYaml(text);
  if (yaml.errors.length > 0)
    return { ok: false, problems: yaml.errors.map((e) => ({ where: `${name}:${e.line}:${e.col}`, message: `not valid YAML: ${e.message}` })) };
  const where: Located = (path, k) => {
    const at = yaml.locate(path, k);
    return at ? `${name}:${at.line}:${at.col}` : name;
  };
  const parsed = ruleFileSchema.safeParse(yaml.value ?? {});
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((issue) => describe(issue, where)) };
  return { ok: true, data: parsed.data, where };
}

/** Parses, validates and compiles a rule file's text. `file` names the source in every problem. */
export function checkRulesText(text: string, file: string, options: Omit<CompileOptions, 'where'>): RulesResult {
  const parsed = parseRulesText(text, file);
  if (!parsed.ok) return parsed;
  const compiled = compileRules(parsed.data, { ...options, where: (p) => parsed.where(p) });
  if (!compiled.ok) return compiled;
  const unlocking = [...compiled.rules.rules.values()].filter((r) => r.unlocks).map((r) => r.id);
  return { ok: true, rules: compiled.rules, data: parsed.data, count: parsed.data.rules.length, unlocking };
}

function describe(issue: z.core.$ZodIssue, where: Located): RuleProblem {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return { where: where(issue.path, issue.keys[0]), message: `${path ? `${path}.` : ''}${issue.keys.join(', ')}: unknown key` };
  }
  return { where: where(issue.path), message: `${path || '(top level)'}: ${issue.message}` };
}

export function formatProblems(problems: readonly RuleProblem[]): string {
  return problems.map((p) => `${p.where}: ${p.message}`).join('\n');
}
