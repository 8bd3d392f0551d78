/**
 * The subset of Home Assistant value templates (Jinja) that device firmware actually sends in discovery
 * configs: one expression over `value` or `value_json` with attribute/index access and a few filters,
 * e.g. `{{ value_json.temperature }}` (Zigbee2MQTT), `{{value_json['ENERGY']['Power']}}` (Tasmota),
 * `{{ value }}`, `{{ value_json.temp | float | round(1) }}`. A template is compiled once, at discovery,
 * into a function; anything outside the subset is rejected then, with the template named in the error.
 */

export type TemplateResult = unknown;

/** A compiled template: given the raw payload (and its parsed JSON), returns the value or MISSING. */
export interface CompiledTemplate {
  readonly source: string;
  readonly usesJson: boolean;
  render(payload: string, json: unknown): TemplateResult;
}

export const MISSING: unique symbol = Symbol('missing');

export class TemplateError extends Error {}

type Step = { kind: 'key'; key: string | number } | { kind: 'filter'; name: string; arg?: number };

const FILTERS = new Set(['float', 'int', 'round', 'lower', 'upper', 'trim', 'string', 'bool']);

export function compileTemplate(source: string): CompiledTemplate {
  const m = /^\s*\{\{-?\s*(.*?)\s*-?\}\}\s*$/s.exec(source);
  if (!m) throw new TemplateError(`unsupported template ${JSON.stringify(source)}: expected one {{ expression }}`);
  const expr = m[1] as string;
  const [head, ...filters] = splitFilters(expr);
  const base = /^(value_json|value)(.*)$/s.exec(head ?? '');
  if (!base) throw new TemplateError(`unsupported template ${JSON.stringify(source)}: expression must start with value or value_json`);
  const usesJson = base[1] === 'value_json';
  const steps: Step[] = [];
  let rest = (base[2] as string).trim();
  while (rest.length > 0) {
    const access = /^\.([A-Za-z_][A-Za-z0-9_]*)|^\[\s*(?:'([^']*)'|"([^"]*)"|(\d+))\s*\]/.exec(rest);
    if (!access) throw new TemplateError(`unsupported template ${JSON.stringify(source)}: cannot read "${rest}"`);
    if (!usesJson) throw new TemplateError(`unsupported template ${JSON.stringify(source)}: only value_json has keys`);
    const key = access[1] ?? access[2] ?? access[3] ?? Number(access[4]);
    steps.push({ kind: 'key', key });
    rest = rest.slice(access[0].length).trim();
  }
  for (const f of filters) {
    const fm = /^([a-z_]+)\s*(?:\(\s*(\d*)\s*\))?$/.exec(f.trim());
    if (!fm || !FILTERS.has(fm[1] as string)) {
      throw new TemplateError(`unsupported template ${JSON.stringify(source)}: unknown filter "${f.trim()}"`);
    }
    steps.push(fm[2] ? { kind: 'filter', name: fm[1] as string, arg: Number(fm[2]) } : { kind: 'filter', name: fm[1] as string });
  }
  return {
    source,
    usesJson,
    render(payload: string, json: unknown): TemplateResult {
      let v: unknown = usesJson ? json : payload;
      for (const step of steps) {
        if (step.kind === 'key') {
          if (v === null || typeof v !== 'object') return MISSING;
          v = (v as Record<string | number, unknown>)[step.key];
          if (v === undefined) return MISSING;
        } else {
          v = applyFilter(step.name, step.arg, v);
        }
      }
      return v;
    },
  };
}

function splitFilters(expr: string): string[] {
  // Filters are separated by `|` outside quotes.
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of expr) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '|') {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current.trim());
  return parts;
}

function applyFilter(name: string, arg: number | undefined, v: unknown): unknown {
  switch (name) {
    case 'float': {
      const n = typeof v === 'number' ? v : Number.parseFloat(String(v));
      return Number.isNaN(n) ? 0 : n; // Jinja's float filter defaults to 0.0
    }
    case 'int': {
      const n = typeof v === 'number' ? Math.trunc(v) : Number.parseInt(String(v), 10);
      return Number.isNaN(n) ? 0 : n;
    }
    case 'round': {
      const n = typeof v === 'number' ? v : Number.parseFloat(String(v));
      const f = 10 ** (arg ?? 0);
      return Math.round(n * f) / f;
    }
    case 'lower':
      return String(v).toLowerCase();
    case 'upper':
      return String(v).toUpperCase();
    case 'trim':
      return String(v).trim();
    case 'string':
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'bool':
      return v === true || ['true', 'on', 'yes', '1'].includes(String(v).toLowerCase());
    default:
      return v;
  }
}
