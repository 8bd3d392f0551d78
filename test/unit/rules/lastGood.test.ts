import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { RuleFileWatcher } from '../../../gateway/automation/ruleFile.ts';
import type { RuleHost } from '../../../gateway/automation/ruleHost.ts';
import { ruleFileSchema, type RuleFile } from '../../../rules/schema.ts';
import { TempDirs } from '../../helpers/tempDir.ts';

/**
 * The checked copy of the active rules (rules.last-good.json): at a restart with the rule file
 * unchanged, its contents are activated without a YAML parse, and without a second schema check when
 * this same code checked them and nobody changed them since; anything else is checked again.
 */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const RULES = `rules:
  - id: porch
    triggers: [{device: door, attribute: open}]
    actions: [{toggle: {device: light, attribute: on}}]
`;

/** A host that parses with the real schema and records what it was asked. */
function host() {
  const calls = { checks: 0, activated: [] as RuleFile[] };
  const fake = {
    async check(text: string) {
      calls.checks++;
      const r = ruleFileSchema.safeParse(parse(text));
      return r.success
        ? { ok: true, data: r.data, count: r.data.rules.length, unlocking: [] }
        : { ok: false, problems: [{ where: 'rules.yaml', message: r.error.message }] };
    },
    async activate(data: RuleFile) {
      calls.activated.push(data);
      return { ok: true, rules: data.rules.length };
    },
  };
  return { calls, host: fake as unknown as RuleHost };
}

function setup() {
  const dir = dirs.make('trellis-lastgood-');
  const file = join(dir, 'rules.yaml');
  const lastGood = join(dir, 'rules.last-good.json');
  writeFileSync(file, RULES);
  const start = async () => {
    const h = host();
    const w = new RuleFileWatcher(file, h.host, pino({ level: 'silent' }), lastGood);
    expect(await w.load()).toBe(true);
    await w.settled(); // the copy is written after the activation, as a stop waits for it
    return h.calls;
  };
  const edit = (f: (saved: Record<string, unknown>) => void) => {
    const saved = JSON.parse(readFileSync(lastGood, 'utf8'));
    f(saved);
    writeFileSync(lastGood, JSON.stringify(saved));
  };
  return { start, edit, lastGood };
}

describe('the last good rules', () => {
  it('activates an unchanged copy at a restart with neither a YAML parse nor a schema check', async () => {
    const s = setup();
    expect((await s.start()).checks).toBe(1); // the first start parses and checks the text
    const spy = vi.spyOn(ruleFileSchema, 'safeParse');
    try {
      const calls = await s.start();
      expect(calls.checks).toBe(0);
      expect(calls.activated[0]?.rules[0]?.id).toBe('porch');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('checks the contents again when they were changed, or checked by other code, and writes them back with this code as their checker', async () => {
    const s = setup();
    await s.start();
    const spy = vi.spyOn(ruleFileSchema, 'safeParse');
    try {
      s.edit((saved) => {
        (saved.data as RuleFile).rules[0] = { ...(saved.data as RuleFile).rules[0], id: 'edited' } as RuleFile['rules'][number];
      });
      const edited = await s.start();
      expect(spy).toHaveBeenCalledTimes(1); // a valid edit is taken, after a check
      expect(edited.activated[0]?.rules[0]?.id).toBe('edited');

      s.edit((saved) => {
        saved.checkedBy = 'an older trellis';
      });
      spy.mockClear();
      await s.start();
      expect(spy).toHaveBeenCalledTimes(1);
      expect(JSON.parse(readFileSync(s.lastGood, 'utf8')).checkedBy).not.toBe('an older trellis'); // rewritten by this code
      spy.mockClear();
      await s.start();
      expect(spy).not.toHaveBeenCalled(); // and trusted from then on
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses changed contents that fail the check, and parses the text instead', async () => {
    const s = setup();
    await s.start();
    s.edit((saved) => {
      (saved.data as { rules: unknown[] }).rules = [{ id: 'broken' }];
    });
    const calls = await s.start();
    expect(calls.checks).toBe(1); // the YAML, since its checked copy is unusable
    expect(calls.activated[0]?.rules[0]?.id).toBe('porch');
  });
});
