import { basename } from 'node:path';
import type { z } from 'zod';
import { compileRules, type CompileOptions, type CompiledRules, type RuleProblem } from './compile.ts';
import { ruleFileSchema } from './schema.ts';
import { parseLocatedYaml } from './yamlLocate.ts';

export type RulesResult = { ok: true; rules: CompiledRules; count: number } | { ok: false; problems: RuleProblem[] };

/** Parses, validates and compiles a rule file's text. `file` names the source in every problem. */
export function checkRulesText(text: string, file: string, options: Omit<CompileOptions, 'where'>): RulesResult {
  const name = basename(file);
  const yaml = parseLocatedYaml(text);
  if (yaml.errors.length > 0) return { ok: false, problems: yaml.errors.map((e) => ({ where: `${name}:${e.line}:${e.col}`, message: `not valid YAML: ${e.message}` })) };
  const where = (path: ReadonlyArray<PropertyKey>, k?: string) => {
    const at = yaml.locate(path, k);
    return at ? `${name}:${at.line}:${at.col}` : name;
  };
  const parsed = ruleFileSchema.safeParse(yaml.value ?? {});
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((issue) => describe(issue, where)) };
  const compiled = compileRules(parsed.data, { ...options, where: (p) => where(p) });
  return compiled.ok ? { ok: true, rules: compiled.rules, count: parsed.data.rules.length } : compiled;
}

function describe(issue: z.core.$ZodIssue, where: (p: ReadonlyArray<PropertyKey>, k?: string) => string): RuleProblem {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return { where: where(issue.path, issue.keys[0]), message: `${path ? `${path}.` : ''}${issue.keys.join(', ')}: unknown key` };
  }
  return { where: where(issue.path), message: `${path || '(top level)'}: ${issue.message}` };
}

export function formatProblems(problems: readonly RuleProblem[]): string {
  return problems.map((p) => `${p.where}: ${p.message}`).join('\n');
}
