import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every text the phone app passes to t() has its Chinese, with the same {placeholders}. */
const UI = join(import.meta.dirname, '..', '..', 'ui');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? (n === 'lang' ? [] : files(p)) : p.endsWith('.js') && n !== 'i18n.js' ? [p] : [];
  });
const literal = /\bt\((?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

// the phone app's own file, plain JavaScript (no types): loaded as it is served
const { zh } = (await import(join(UI, 'lang', 'zh.js'))) as { zh: Record<string, string> };

describe('the app in Simplified Chinese', () => {
  const used = new Map<string, string>();
  for (const f of files(UI)) for (const m of readFileSync(f, 'utf8').matchAll(literal)) used.set(((m[1] ?? m[2]) as string).replace(/\\'/g, "'"), f);

  it('finds the texts (the scan works)', () => {
    expect(used.size).toBeGreaterThan(80);
    expect(used.has('Pair this phone')).toBe(true);
  });

  it('translates every one, keeping its placeholders', () => {
    const missing = [...used.keys()].filter((k) => !(k in zh));
    expect(missing).toEqual([]);
    const table = zh;
    for (const k of used.keys()) {
      expect(table[k]?.trim(), k).not.toBe('');
      expect(placeholders(table[k] as string), k).toEqual(placeholders(k));
    }
  });
});
