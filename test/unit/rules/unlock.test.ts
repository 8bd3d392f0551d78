import { describe, expect, it } from 'vitest';
import type { AttributeSpec } from '../../../drivers/types.ts';
import { opensAccess } from '../../../rules/access.ts';
import { checkRulesText } from '../../../rules/load.ts';

const lock: AttributeSpec = { type: 'string', deviceClass: 'lock', writable: true, options: ['locked', 'unlocked'], commands: ['lock', 'unlock', 'open'] };
const garage: AttributeSpec = { type: 'string', deviceClass: 'garage', writable: true, commands: ['open', 'close', 'stop'] };
const garagePosition: AttributeSpec = { type: 'number', unit: '%', deviceClass: 'garage', writable: true, min: 0, max: 100 };
const blind: AttributeSpec = { type: 'string', deviceClass: 'blind', writable: true, commands: ['open', 'close', 'stop'] };
const DEVICES: Record<string, Record<string, AttributeSpec>> = {
  door: { lock },
  garage: { cover: garage, cover_position: garagePosition },
  blind: { cover: blind },
};
const catalog = (id: string) => (DEVICES[id] ? { attributes: DEVICES[id] } : undefined);
const check = (text: string) => checkRulesText(text, 'rules.yaml', { catalog, timezone: 'UTC', tariffs: {}, cascadeLimit: 8 });
const messages = (text: string) => {
  const r = check(text);
  return r.ok ? [] : r.problems.map((p) => `${p.where} ${p.message}`);
};

describe('locks and entrances', () => {
  it.each([
    [lock, 'unlock', true],
    [lock, 'open', true],
    [lock, 'lock', false],
    [garage, 'open', true],
    [garage, 'close', false],
    [garagePosition, 30, true],
    [garagePosition, 0, false],
    [blind, 'open', false],
    [undefined, 'open', false],
  ] as const)('%o set to %s opens a way in: %s', (spec, value, opens) => {
    expect(opensAccess(spec, value)).toBe(opens);
  });

  it('refuses a rule that unlocks, opens a garage, toggles a lock or runs a scene that unlocks, naming allowUnlock and the line', () => {
    const rule = (action: string, extra = '') => `scenes:
  leave: [{device: door, attribute: lock, value: unlock}]
rules:
  - id: r1
${extra}    triggers: [{at: "07:00"}]
    actions: [${action}]
`;
    expect(messages(rule('{set: {device: door, attribute: lock, value: unlock}}'))).toEqual([
      'rules.yaml:6:15 door.lock = "unlock" unlocks or opens a way in: a rule may do that only with allowUnlock: true',
    ]);
    expect(messages(rule('{set: {device: garage, attribute: cover_position, value: 50}}'))[0]).toMatch(/garage\.cover_position = 50 unlocks or opens/);
    expect(messages(rule('{toggle: {device: door, attribute: lock}}'))[0]).toMatch(/door\.lock = "toggle" unlocks or opens/);
    expect(messages(rule('{scene: leave}'))[0]).toMatch(/door\.lock = "unlock" unlocks or opens/);
    expect(messages(rule('{set: {device: door, attribute: lock, value: lock}}'))).toEqual([]);
    expect(messages(rule('{set: {device: blind, attribute: cover, value: open}}'))).toEqual([]);
    const allowed = check(rule('{scene: leave}', '    allowUnlock: true\n'));
    expect(allowed.ok && allowed.unlocking).toEqual(['r1']);
    expect(messages(rule('{set: {device: door, attribute: lock, value: wide-open}}'))[0]).toMatch(
      /door\.lock takes one of lock, unlock, open, got "wide-open"/,
    );
  });
});
