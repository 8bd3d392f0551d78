import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';

/** A parsed YAML document that can say where (line, column) a path points. */
export interface LocatedYaml {
  readonly value: unknown;
  /** Syntax errors, each with its 1-based line and column. */
  readonly errors: ReadonlyArray<{ line: number; col: number; message: string }>;
  locate(path: ReadonlyArray<PropertyKey>, key?: string): { line: number; col: number } | undefined;
}

export function parseLocatedYaml(text: string): LocatedYaml {
  const counter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const errors = doc.errors.map((e) => ({ ...counter.linePos(e.pos[0]), message: e.message.split('\n')[0] ?? e.message }));
  return {
    value: errors.length > 0 ? undefined : doc.toJS(),
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
