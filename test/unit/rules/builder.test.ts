import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyRuleEdit } from '../../../gateway/automation/ruleEdits.ts';
import { durationWords, ruleWords, type Names } from '../../../rules/words.ts';

const FILE = `# Shop rules, written by hand: keep this comment
scenes:
  evening:
    - {device: sign, attribute: power, value: false}
rules:
  # the door alarm: the insurer asked for it
  - id: door-alarm
    triggers: [{device: fridge, attribute: door, to: true, for: 2m}]
    actions: [{set: {device: buzzer, attribute: sound, value: true}}]
  - id: closing
    triggers: [{at: "18:00"}]
    actions: [{scene: evening}]
`;

const text = (r: ReturnType<typeof applyRuleEdit>) => {
  if (!r.ok) throw new Error(r.message);
  return r.text;
};

describe('rule edits through the YAML document', () => {
  it('adds a rule at the end, keeping the comments and the hand-written rules as they were', () => {
    const rule = {
      id: 'descale',
      triggers: [{ device: 'coffee', event: 'fault_raised', code: 'descale_needed' }],
      actions: [{ notify: { message: 'Descale the machine' } }],
    };
    const out = text(applyRuleEdit(FILE, { kind: 'putRule', ruleId: 'descale', rule }));
    expect(out.startsWith(FILE.trimEnd())).toBe(true); // everything before is byte for byte the same
    expect(parse(out).rules.map((r: { id: string }) => r.id)).toEqual(['door-alarm', 'closing', 'descale']);
    expect(parse(out).rules[2]).toEqual(rule);
  });

  it('replaces a rule in place (its comment stays with it), renames one, refuses a rename onto another, deletes one', () => {
    const replaced = text(
      applyRuleEdit(FILE, {
        kind: 'putRule',
        ruleId: 'door-alarm',
        rule: {
          id: 'door-alarm',
          triggers: [{ device: 'fridge', attribute: 'door', to: true, for: '5m' }],
          actions: [{ set: { device: 'buzzer', attribute: 'sound', value: true } }],
        },
      }),
    );
    expect(replaced).toContain('# the door alarm: the insurer asked for it');
    expect(replaced).toContain('# Shop rules, written by hand: keep this comment');
    expect(parse(replaced).rules[0].triggers[0].for).toBe('5m');
    expect(parse(replaced).rules[1].id).toBe('closing');
    const renamed = text(applyRuleEdit(FILE, { kind: 'putRule', ruleId: 'closing', rule: { ...parse(FILE).rules[1], id: 'close-up' } }));
    expect(parse(renamed).rules.map((r: { id: string }) => r.id)).toEqual(['door-alarm', 'close-up']);
    expect(applyRuleEdit(FILE, { kind: 'putRule', ruleId: 'closing', rule: { ...parse(FILE).rules[1], id: 'door-alarm' } })).toEqual({
      ok: false,
      notFound: false,
      message: 'a rule "door-alarm" exists already: choose another name',
    });
    const deleted = text(applyRuleEdit(FILE, { kind: 'deleteRule', ruleId: 'closing' }));
    expect(parse(deleted).rules.map((r: { id: string }) => r.id)).toEqual(['door-alarm']);
    expect(applyRuleEdit(FILE, { kind: 'deleteRule', ruleId: 'nope' })).toMatchObject({ ok: false, notFound: true });
  });

  it('puts and deletes scenes, and starts an empty file', () => {
    const steps = [{ device: 'lamp', attribute: 'power', value: true }];
    expect(parse(text(applyRuleEdit(FILE, { kind: 'putScene', name: 'morning', steps }))).scenes).toEqual({
      evening: parse(FILE).scenes.evening,
      morning: steps,
    });
    expect(parse(text(applyRuleEdit(FILE, { kind: 'deleteScene', name: 'evening' }))).scenes).toEqual({});
    expect(parse(text(applyRuleEdit('', { kind: 'putScene', name: 'morning', steps })))).toEqual({ scenes: { morning: steps } });
    const first = { id: 'r', triggers: [{ start: true }], actions: [{ delay: '1s' }] };
    expect(parse(text(applyRuleEdit('', { kind: 'putRule', ruleId: 'r', rule: first })))).toEqual({ rules: [first] });
    expect(applyRuleEdit('- a list\n', { kind: 'deleteScene', name: 'x' })).toMatchObject({ ok: false, message: expect.stringMatching(/not a mapping/) });
  });
});

describe('rules in words', () => {
  const names: Names = {
    device: (id) => ({ fridge: 'Dairy fridge', buzzer: 'Buzzer', valve: 'Living room radiator', remote: 'Hall remote' })[id] ?? id,
    attribute: (_d, a) => ({ climate_target_temperature: 'target temperature' })[a] ?? a,
  };
  it('says what a rule does with the names people use', () => {
    expect(
      ruleWords(
        {
          triggers: [{ device: 'fridge', attribute: 'door', to: true, for: '2m' }],
          conditions: [{ weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }, { time: { after: '08:00', before: '18:00' } }],
          actions: [
            { set: { device: 'buzzer', attribute: 'sound', value: true } },
            { delay: '30s' },
            { notify: { message: 'Door open', severity: 'critical' } },
          ],
        },
        names,
      ),
    ).toBe(
      'When Dairy fridge door becomes on for 2 minutes, if on weekdays and between 08:00 and 18:00: set Buzzer sound to on, then wait 30 seconds, then tell me "Door open" (urgent)',
    );
    expect(
      ruleWords(
        {
          triggers: [
            { at: '07:00', weekdays: ['sat', 'sun'] },
            { device: 'remote', event: 'button', button: 'double' },
          ],
          conditions: [],
          actions: [{ set: { device: 'valve', attribute: 'climate_target_temperature', value: 21 } }, { scene: 'good_morning' }],
        },
        names,
      ),
    ).toBe(
      'At 07:00 at weekends, or when Hall remote button double is pressed: set Living room radiator target temperature to 21, then run the scene good morning',
    );
    expect(durationWords('1h30m')).toBe('1 hour 30 minutes');
  });
});
