import { isMap, isScalar, LineCounter, parseDocument, Parser, type CST, type Document } from 'yaml';

/** A parsed YAML document that can say where (line, column) a path points. */
export interface LocatedYaml {
  readonly value: unknown;
  /** Syntax errors and broken limits, each with its 1-based line and column. */
  readonly errors: ReadonlyArray<{ line: number; col: number; message: string }>;
  locate(path: ReadonlyArray<PropertyKey>, key?: string): { line: number; col: number } | undefined;
}

/**
 * Limits on what a YAML text may make, so a hostile file is an error, never a crash or a stall:
 * aliases (a "billion laughs" expands a few lines into gigabytes) and nesting depth (the composer and
 * every schema behind it recurse; a 100k-deep text can exhaust memory). Trellis's own files (rules,
 * config) need neither many aliases nor more than a dozen levels.
 */
export const YAML_LIMITS = { maxAliasCount: 50, maxDepth: 64 } as const;

export function parseLocatedYaml(text: string): LocatedYaml {
  const counter = new LineCounter();
  const fail = (offset: number, message: string): LocatedYaml => {
    // a line counter learns line starts while parsing; count them here, where parsing did not finish
    const lines = new LineCounter();
    lines.addNewLine(0);
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) lines.addNewLine(nl + 1);
    return { value: undefined, errors: [{ ...lines.linePos(offset), message }], locate: () => undefined };
  };
  const deep = tooDeep(text, YAML_LIMITS.maxDepth);
  if (deep !== undefined) return fail(deep, `nested deeper than ${YAML_LIMITS.maxDepth} levels`);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    return fail(0, `cannot be parsed: ${(err as Error).message}`);
  }
  const errors = doc.errors.map((e) => ({ ...counter.linePos(e.pos[0]), message: e.message.split('\n')[0] ?? e.message }));
  let value: unknown;
  if (errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: YAML_LIMITS.maxAliasCount });
    } catch (err) {
      // yaml throws a ReferenceError for "Excessive alias count", naming no place: find the first alias
      const at = text.search(/(^|[\s[{,:-])\*[^\s,\]}]/m);
      errors.push({ ...counter.linePos(Math.max(0, at)), message: `${(err as Error).message} (at most ${YAML_LIMITS.maxAliasCount} alias expansions)` });
    }
  }
  return {
    value: errors.length > 0 ? undefined : value,
    errors,
    locate(path, key) {
      const p = path.map((x) => (typeof x === 'symbol' ? String(x) : x));
      if (key !== undefined) {
        const parent = p.length === 0 ? doc.contents : doc.getIn(p, true);
        if (isMap(parent)) {
          const pair = parent.items.find((i) => isScalar(i.key) && String(i.key.value) === key);
          const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
          if (offset !== undefined) return counter.linePos(offset);
        }
      }
      for (let n = p.length; n >= 0; n--) {
        const node = (n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true)) as { range?: [number, number, number] } | null | undefined;
        const offset = node?.range?.[0];
        if (offset !== undefined) return counter.linePos(offset);
      }
      return undefined;
    },
  };
}

/**
 * The offset of the first collection nested deeper than `max`, from yaml's concrete syntax tree
 * (its parser keeps an explicit stack, and this walk does too: neither recurses), or undefined.
 */
function tooDeep(text: string, max: number): number | undefined {
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document' || !token.value) continue;
    const stack: Array<[CST.Token, number]> = [[token.value, 1]];
    while (stack.length > 0) {
      const [t, depth] = stack.pop() as [CST.Token, number];
      if (!('items' in t)) continue;
      if (depth > max) return t.offset;
      for (const item of t.items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}
