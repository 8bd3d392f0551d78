import { builtinModules } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layers, as imports: a test walks every import of every source file (static, dynamic and
 * re-exports, parsed by the TypeScript compiler) and fails on one that crosses a boundary.
 */
const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

interface Import {
  readonly from: string; // project-relative file
  readonly spec: string;
  /** project-relative target for relative imports, else undefined */
  readonly target: string | undefined;
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(join(root, p)).isDirectory()) return files(p);
    return /\.(ts|mjs)$/.test(name) ? [p.split(sep).join('/')] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean, dynamic: boolean) => {
    const target = spec.startsWith('.')
      ? relative(root, join(root, dirname(file), spec))
          .split(sep)
          .join('/')
      : undefined;
    out.push({ from: file, spec, target, typeOnly, dynamic });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause?.isTypeOnly === true ||
        (clause !== undefined &&
          !clause.name &&
          clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier.text, typeOnly, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly, false);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const layer = (file: string | undefined) => file?.split('/')[0];
const all = ['protocol', 'fleet', 'gateway', 'drivers', 'rules', 'firmware-sim', 'bin'].flatMap(files).flatMap(importsOf);
const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));
const isBuiltin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec);

function violations(pred: (i: Import) => string | undefined): string[] {
  return all.flatMap((i) => {
    const why = pred(i);
    return why ? [`${i.from} imports ${i.spec}: ${why}`] : [];
  });
}

describe('import boundaries', () => {
  it('found the imports (the walker works)', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(all.some((i) => i.from === 'rules/engine.ts' && i.target === 'drivers/types.ts' && i.typeOnly)).toBe(true);
    expect(all.some((i) => i.from === 'gateway/cli/start.ts' && i.target === 'gateway/demo/demo.ts' && i.dynamic)).toBe(true);
  });

  it('rules/ imports only itself and, type-only, drivers/types.ts', () => {
    expect(
      violations((i) =>
        layer(i.from) !== 'rules' || !i.target || layer(i.target) === 'rules'
          ? undefined
          : i.target === 'drivers/types.ts' && i.typeOnly
            ? undefined
            : 'rules are pure',
      ),
    ).toEqual([]);
  });

  it('drivers/ import nothing from gateway/ (nor rules/, firmware-sim/)', () => {
    expect(
      violations((i) => (layer(i.from) === 'drivers' && i.target && layer(i.target) !== 'drivers' ? 'a driver imports only drivers/' : undefined)),
    ).toEqual([]);
  });

  it('firmware-sim/ imports nothing from gateway/ or drivers/ (simulated firmware encodes on its own)', () => {
    expect(
      violations((i) =>
        layer(i.from) === 'firmware-sim' && i.target && ['gateway', 'drivers'].includes(layer(i.target) as string)
          ? 'firmware-sim is independent of Trellis'
          : undefined,
      ),
    ).toEqual([]);
  });

  it('fleet/ imports only protocol/ and itself (nothing from the gateway)', () => {
    expect(
      violations((i) =>
        layer(i.from) === 'fleet' && i.target && !['fleet', 'protocol'].includes(layer(i.target) as string)
          ? 'the fleet shares only the wire format'
          : undefined,
      ),
    ).toEqual([]);
    expect(all.some((i) => i.from === 'fleet/ingest/records.ts' && i.target === 'protocol/index.ts')).toBe(true);
  });

  it('protocol/ imports only zod and itself', () => {
    expect(
      violations((i) =>
        layer(i.from) !== 'protocol'
          ? undefined
          : i.target
            ? layer(i.target) === 'protocol'
              ? undefined
              : 'protocol is standalone'
            : i.spec === 'zod'
              ? undefined
              : 'only zod',
      ),
    ).toEqual([]);
  });

  it('the gateway loads firmware-sim only from gateway/demo/, and gateway/demo/ only by dynamic import', () => {
    expect(
      violations((i) => {
        if (layer(i.from) !== 'gateway' || !i.target) return undefined;
        if (layer(i.target) === 'firmware-sim' && !i.from.startsWith('gateway/demo/')) return 'simulators belong to the demo';
        if (i.target.startsWith('gateway/demo/') && !i.from.startsWith('gateway/demo/') && !i.dynamic) return 'the demo is loaded by a dynamic import';
        return undefined;
      }),
    ).toEqual([]);
  });

  it('no SQL outside gateway/store/', () => {
    const offenders = files('gateway')
      .filter((f) => !f.startsWith('gateway/store/'))
      .filter((f) => /\.(prepare|exec|pragma|transaction)\(\s*['"`]|\bdb\.(prepare|exec|pragma|transaction)\(/.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('every package the shipped code imports is a declared dependency (not a dev dependency)', () => {
    const declared = new Set(Object.keys(pkg.dependencies));
    expect(
      violations((i) =>
        i.target || isBuiltin(i.spec) || i.typeOnly || declared.has(packageOf(i.spec)) ? undefined : `${packageOf(i.spec)} is not in dependencies`,
      ),
    ).toEqual([]);
  });

  it('dist/ is built from the shipped folders only', () => {
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    expect(build.include.sort()).toEqual(['drivers', 'firmware-sim', 'fleet', 'gateway', 'protocol', 'rules']);
  });
});
