import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inWindow } from '../../../rules/localTime.ts';
import { evaluate, initialState, type RuleInput } from '../../../rules/engine.ts';
import { compile, Harness, problemsOf } from '../../helpers/rules.ts';

describe('checking a rule set before activation', () => {
  it('reports schema errors with file:line:column', () => {
    const yaml = [
      'rules:',
      '  - id: r1',
      '    triggers:',
      '      - {device: fridge, attribute: door, to: true, for: soon}',
      '    actions: [{set: {device: buzzer, attribute: sound, value: true}}]',
      '',
    ].join('\n');
    expect(problemsOf(yaml)).toEqual([expect.stringMatching(/^rules\.yaml:4:\d+: rules\.0\.triggers\.0/)]);
    expect(problemsOf('rules:\n  - id: r1\n    triggers: [{start: true}]\n    actions: [{blink: {}}]\n')[0]).toMatch(
      /^rules\.yaml:4:\d+: .*expected an action/,
    );
    expect(problemsOf('rules:\n  - id: r1\n    colour: red\n    triggers: [{start: true}]\n    actions: [{notify: {message: x}}]\n')[0]).toMatch(
      /^rules\.yaml:3:5: rules\.0\.colour: unknown key/,
    );
    expect(problemsOf('rules: [\n')[0]).toMatch(/^rules\.yaml:\d+:\d+: not valid YAML/);
  });

  it('reports unknown devices and attributes, read-only targets, wrong types, unknown scenes and tariffs', () => {
    const problems = problemsOf(`rules:
  - id: r1
    triggers: [{device: nosuch, attribute: door, to: true}]
    conditions: [{tariff: offpeak}]
    actions:
      - {set: {device: fridge, attribute: temperature, value: 3}}
      - {set: {device: thermo, attribute: setpoint, value: "warm"}}
      - {set: {device: thermo, attribute: setpoint, value: 99}}
      - {set: {device: lamp, attribute: colour, value: 1}}
      - {scene: party}
      - {cancel: {rule: ghost}}
`);
    expect(problems).toEqual([
      expect.stringMatching(/^rules\.yaml:3:\d+: unknown device "nosuch"$/),
      expect.stringMatching(/^rules\.yaml:4:\d+: unknown tariff "offpeak"/),
      expect.stringMatching(/^rules\.yaml:6:\d+: fridge\.temperature is read-only$/),
      expect.stringMatching(/^rules\.yaml:7:\d+: thermo\.setpoint takes a number, got "warm"$/),
      expect.stringMatching(/^rules\.yaml:8:\d+: thermo\.setpoint: 99 is outside 5\.\.30$/),
      expect.stringMatching(/^rules\.yaml:9:\d+: device "lamp" has no attribute "colour"/),
      expect.stringMatching(/^rules\.yaml:10:\d+: unknown scene "party"/),
      expect.stringMatching(/^rules\.yaml:11:\d+: cancel: no rule "ghost"$/),
    ]);
  });

  it('reports rules that trigger each other in a cycle', () => {
    const problems = problemsOf(`rules:
  - id: a-to-b
    triggers: [{device: a, attribute: x}]
    actions: [{set: {device: b, attribute: y, value: 1}}]
  - id: b-to-a
    triggers: [{device: b, attribute: y}]
    actions: [{set: {device: a, attribute: x, value: 2}}]
`);
    expect(problems).toEqual([expect.stringMatching(/^rules\.yaml:2:\d+: rules trigger each other in a cycle: a-to-b -> b-to-a -> a-to-b/)]);
  });

  it('keeps protected rules marked as such', () => {
    const rules = compile(
      'rules:\n  - id: fridge-alarm\n    protected: true\n    triggers: [{device: fridge, attribute: temperature, above: 8}]\n    actions: [{notify: {message: warm}}]\n',
    );
    expect(rules.rules.get('fridge-alarm')?.def.protected).toBe(true);
  });

  it('indexes triggers by device and attribute, so unrelated rules cost nothing', () => {
    const many = Array.from(
      { length: 500 },
      (_, i) => `  - id: r${i}\n    triggers: [{device: thermo, attribute: temperature, above: ${i}}]\n    actions: [{notify: {message: m}}]`,
    ).join('\n');
    const rules = compile(
      `rules:\n${many}\n  - id: door\n    triggers: [{device: fridge, attribute: door, to: true}]\n    actions: [{notify: {message: d}}]\n`,
    );
    expect(rules.stateIndex.get('fridge\u0000door')).toHaveLength(1);
    expect(rules.stateIndex.get('thermo\u0000temperature')).toHaveLength(500);
  });
});

describe('properties', () => {
  const rules = compile(`scenes:
  s: [{device: lamp, attribute: light, value: true}]
rules:
  - id: door
    mode: queued
    triggers: [{device: fridge, attribute: door, to: true, for: 30s}]
    actions: [{set: {device: buzzer, attribute: sound, value: true}}, {delay: 10s}, {toggle: {device: lamp, attribute: light}}]
  - id: temp
    mode: parallel
    triggers: [{device: fridge, attribute: temperature, above: 5}]
    conditions: [{or: [{device: lamp, attribute: light, equals: true}, {time: {after: "22:00", before: "06:00"}}]}]
    actions: [{scene: s}, {notify: {message: warm}}]
  - id: loop
    triggers: [{device: a, attribute: z}]
    actions: [{set: {device: a, attribute: x, value: 1}}]
`);
  const input = fc.oneof(
    fc.record({ kind: fc.constant('door' as const), v: fc.boolean() }),
    fc.record({ kind: fc.constant('temp' as const), v: fc.integer({ min: 0, max: 10 }) }),
    fc.record({ kind: fc.constant('z' as const), v: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('wait' as const), v: fc.integer({ min: 0, max: 60_000 }) }),
  );
  type Step = { kind: 'door' | 'temp' | 'z' | 'wait'; v: number | boolean };
  const replay = (steps: Step[]) => {
    const h = new Harness(rules);
    for (const s of steps) {
      if (s.kind === 'wait') h.advance(s.v as number);
      else if (s.kind === 'door') h.reading('fridge', 'door', s.v);
      else if (s.kind === 'temp') h.reading('fridge', 'temperature', s.v);
      else h.reading('a', 'z', s.v);
    }
    return JSON.stringify(h.log);
  };

  it('evaluation is deterministic: the same inputs give the same outputs', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 40 }), (steps) => {
        expect(replay(steps)).toBe(replay(steps));
      }),
      { numRuns: 200 },
    );
  });

  it('cascades always terminate, even when every command comes back as a new reading', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 10 }), (seeds) => {
        const state = initialState();
        let now = Date.UTC(2026, 0, 1);
        for (const seed of seeds) {
          let queue: RuleInput[] = [{ kind: 'event', event: { kind: 'reading', deviceId: 'a', attribute: 'z', value: seed, ts: now } }];
          let steps = 0;
          while (queue.length > 0) {
            steps++;
            expect(steps).toBeLessThan(100); // the limit (5) stops it long before
            const out = evaluate(rules, state, queue.shift() as RuleInput, now);
            // a misbehaving device: each command changes a.z
            queue = queue.concat(
              out.commands.map(
                (c, i) => ({ kind: 'event', event: { kind: 'reading', deviceId: c.deviceId, attribute: 'z', value: seed + steps + i, ts: now } }) as RuleInput,
              ),
            );
          }
          now += 1000;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a time window across midnight is exactly the union of its two halves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1439 }), fc.integer({ min: 0, max: 1438 }), fc.integer({ min: 0, max: 1439 }), (from, to0, minute) => {
        const to = to0 % from; // to < from: the window crosses midnight
        expect(inWindow(minute, from, to)).toBe(inWindow(minute, from, 1440) || inWindow(minute, 0, to));
      }),
    );
  });
});
