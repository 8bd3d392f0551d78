import { describe, expect, it } from 'vitest';
import { compile, Harness } from '../../helpers/rules.ts';

const NOON = Date.UTC(2026, 10, 23, 12, 0); // Monday
const at = (hh: number, mm = 0) => Date.UTC(2026, 10, 23, hh, mm);

describe('conditions', () => {
  const boilerRule = compile(
    `rules:
  - id: peak-off
    triggers: [{device: thermo, attribute: temperature}]
    conditions:
      - {tariff: peak}
      - not: {device: thermo, attribute: temperature, below: 18}
    actions: [{set: {device: boiler, attribute: relay, value: false}}]
`,
    { peak: { from: '17:00', to: '21:00', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
  );

  it('tariff window and not(below): switches the boiler off in peak hours unless it is cold', () => {
    const h = new Harness(boilerRule, at(18));
    h.reading('thermo', 'temperature', 19); // first value: a change needs a previous one
    h.reading('thermo', 'temperature', 20);
    h.reading('thermo', 'temperature', 17);
    h.now = at(22);
    h.reading('thermo', 'temperature', 21);
    expect(h.commands()).toEqual(['boiler.relay=false']);
    const traces = h.log.flatMap((e) => e.traces);
    expect(traces[1]?.conditions).toEqual([
      { text: 'tariff peak', result: true },
      { text: 'not thermo.temperature < 18', result: false },
    ]);
    expect(traces[1]?.outcome).toBe('conditions not met');
  });

  it('time windows across midnight, weekdays, equals, and/or', () => {
    const rules = compile(`rules:
  - id: night
    triggers: [{device: button, event: button}]
    conditions:
      - {time: {after: "22:00", before: "06:00"}}
      - or: [{weekdays: [mon]}, {and: [{device: lamp, attribute: light, equals: true}, {online: lamp}]}]
    actions: [{set: {device: lamp, attribute: light_brightness, value: 10}}]
`);
    const press = (h: Harness) => h.event({ kind: 'button', deviceId: 'button', button: 'b', action: 'single' });
    const h = new Harness(rules, at(23)); // Monday 23:00
    press(h);
    h.now = at(12);
    press(h); // noon: outside the window
    h.now = Date.UTC(2026, 10, 25, 2, 0); // Wednesday 02:00: window holds, not Monday, lamp off
    press(h);
    h.reading('lamp', 'light', true);
    h.event({ kind: 'availability', deviceId: 'lamp', online: true });
    press(h);
    expect(h.commands()).toEqual(['lamp.light_brightness=10', 'lamp.light_brightness=10']);
  });
});

describe('actions', () => {
  it('set, scene, notify; delay continues later; cancel stops another rule', () => {
    const rules = compile(`scenes:
  evening:
    - {device: lamp, attribute: light, value: true}
    - {device: lamp, attribute: light_brightness, value: 40}
rules:
  - id: door-alarm
    triggers: [{device: fridge, attribute: door, to: true}]
    actions:
      - {set: {device: buzzer, attribute: sound, value: true}}
      - {notify: {message: door open, severity: critical}}
      - {delay: 30s}
      - {set: {device: buzzer, attribute: sound, value: false}}
  - id: door-closed
    triggers: [{device: fridge, attribute: door, to: false}]
    actions: [{cancel: {rule: door-alarm}}, {scene: evening}]
`);
    const h = new Harness(rules, NOON);
    h.reading('fridge', 'door', true);
    expect(h.commands()).toEqual(['buzzer.sound=true']);
    expect(h.alerts()).toEqual(['critical: door open']);
    h.advance(30_000);
    expect(h.commands()).toEqual(['buzzer.sound=true', 'buzzer.sound=false']);

    h.reading('fridge', 'door', false);
    h.reading('fridge', 'door', true);
    h.advance(10_000);
    h.reading('fridge', 'door', false); // cancels the pending 30 s delay of door-alarm
    h.advance(60_000);
    expect(h.commands().filter((c) => c === 'buzzer.sound=false')).toHaveLength(1);
    expect(h.commands().filter((c) => c.startsWith('lamp.'))).toEqual([
      'lamp.light=true',
      'lamp.light_brightness=40',
      'lamp.light=true',
      'lamp.light_brightness=40',
    ]);
  });

  it('toggle flips the last known value', () => {
    const h = new Harness(
      compile(`rules:\n  - id: t\n    triggers: [{device: button, event: button}]\n    actions: [{toggle: {device: boiler, attribute: relay}}]\n`),
    );
    const press = () => h.event({ kind: 'button', deviceId: 'button', button: 'b', action: 'single' });
    press();
    h.reading('boiler', 'relay', true);
    press();
    expect(h.commands()).toEqual(['boiler.relay=true', 'boiler.relay=false']);
  });
});

describe('modes', () => {
  const withMode = (mode: string, max = 2) =>
    compile(`rules:
  - id: m
    mode: ${mode}
    max: ${max}
    triggers: [{device: button, event: button}]
    actions: [{set: {device: lamp, attribute: light, value: true}}, {delay: 10s}, {set: {device: lamp, attribute: light, value: false}}]
`);
  const run = (mode: string, max?: number) => {
    const h = new Harness(withMode(mode, max), NOON);
    for (let i = 0; i < 3; i++) {
      h.event({ kind: 'button', deviceId: 'button', button: 'b', action: 'single' });
      h.advance(1000);
    }
    h.advance(60_000);
    return h;
  };

  it('single ignores triggers while running', () => {
    const h = run('single');
    expect(h.commands()).toEqual(['lamp.light=true', 'lamp.light=false']);
    expect(h.outcomes()).toContain('skipped: already running (mode single)');
  });

  it('restart cancels the running instance and starts again', () => {
    const h = run('restart');
    expect(h.commands()).toEqual(['lamp.light=true', 'lamp.light=true', 'lamp.light=true', 'lamp.light=false']);
  });

  it('queued runs them one after another, up to max waiting', () => {
    const h = run('queued', 1);
    expect(h.commands()).toEqual(['lamp.light=true', 'lamp.light=false', 'lamp.light=true', 'lamp.light=false']);
    expect(h.outcomes()).toContain('skipped: queue full (1)');
  });

  it('parallel runs up to max at once', () => {
    const h = run('parallel', 2);
    expect(h.commands()).toEqual(['lamp.light=true', 'lamp.light=true', 'lamp.light=false', 'lamp.light=false']);
    expect(h.outcomes()).toContain('skipped: 2 runs already in progress');
  });
});

describe('cascades at run time', () => {
  it('does not mistake devices that are both actuator and sensor for a loop', () => {
    // rule a: a.z changes -> set b.y; rule b: b.y changes -> set a.x. Device a reports z on its own
    // schedule; its reports right after a command from rule b are not caused by it.
    const rules = compile(`rules:
  - id: from-a
    triggers: [{device: a, attribute: z}]
    actions: [{set: {device: b, attribute: y, value: 1}}]
  - id: from-b
    triggers: [{device: b, attribute: y}]
    actions: [{set: {device: a, attribute: x, value: 1}}]
`);
    const h = new Harness(rules, NOON);
    h.reading('a', 'z', 0);
    h.reading('b', 'y', 0);
    for (let i = 1; i <= 50; i++) {
      h.reading('a', 'z', i); // from-a fires, commands b
      h.reading('b', 'y', i); // from-b fires, commands a
      h.now += 100;
    }
    expect(h.state.disabled.size).toBe(0);
    expect(h.commands()).toHaveLength(100);
  });

  it('stops a loop through a device deeper than the limit and disables the rule with a critical alert', () => {
    // Setting a.x makes the device report a new a.z, which triggers the rule again. The static check
    // cannot see this loop: it goes through the device's own behaviour.
    const rules = compile(`rules:
  - id: ping
    triggers: [{device: a, attribute: z}]
    actions: [{set: {device: a, attribute: x, value: 1}}]
`);
    const h = new Harness(rules, NOON);
    h.reading('a', 'z', 0);
    let z = 1;
    let out = h.reading('a', 'z', z++);
    for (let i = 0; i < 50 && out.commands.length > 0; i++) out = h.reading('a', 'z', z++); // the device's echo
    expect(h.state.disabled.has('ping')).toBe(true);
    expect(h.commands()).toHaveLength(6); // depths 0..5 ran; depth 6 exceeds the limit of 5
    expect(h.alerts()).toEqual([expect.stringMatching(/^critical: rule ping disabled: rules triggered each other 6 deep \(limit 5\)/)]);
    h.now += 60_000;
    h.reading('a', 'z', 100);
    expect(h.outcomes('ping').at(-1)).toBe('skipped: rule disabled');
  });
});
