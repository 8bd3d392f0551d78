import { describe, expect, it } from 'vitest';
import { compile, Harness } from '../../helpers/rules.ts';

const rule = (trigger: string, actions = '[{set: {device: buzzer, attribute: sound, value: true}}]') =>
  compile(`rules:\n  - id: r1\n    triggers: [${trigger}]\n    actions: ${actions}\n`);

describe('state triggers', () => {
  it('"to" fires when the attribute becomes the value, not while it stays', () => {
    const h = new Harness(rule('{device: fridge, attribute: door, to: true}'));
    h.reading('fridge', 'door', false);
    h.reading('fridge', 'door', true);
    h.reading('fridge', 'door', true);
    expect(h.commands()).toEqual(['buzzer.sound=true']);
  });

  it('"from" narrows "to"', () => {
    const h = new Harness(rule('{device: thermo, attribute: setpoint, from: 20, to: 21}'));
    h.reading('thermo', 'setpoint', 19);
    h.reading('thermo', 'setpoint', 21);
    expect(h.commands()).toEqual([]);
    h.reading('thermo', 'setpoint', 20);
    h.reading('thermo', 'setpoint', 21);
    expect(h.commands()).toEqual(['buzzer.sound=true']);
  });

  it('"above" fires on crossing, including the first reading, and again only after dropping back', () => {
    const h = new Harness(rule('{device: fridge, attribute: temperature, above: 8}'));
    h.reading('fridge', 'temperature', 9);
    h.reading('fridge', 'temperature', 10);
    h.reading('fridge', 'temperature', 7);
    h.reading('fridge', 'temperature', 8.5);
    expect(h.commands()).toHaveLength(2);
  });

  it('"below" and "above" together fire when entering the range', () => {
    const h = new Harness(rule('{device: thermo, attribute: temperature, above: 18, below: 22}'));
    for (const v of [15, 19, 20, 25, 21]) h.reading('thermo', 'temperature', v);
    expect(h.commands()).toHaveLength(2);
  });

  it('with no value condition, fires on every change after the first known value', () => {
    const h = new Harness(rule('{device: thermo, attribute: setpoint}'));
    for (const v of [20, 20, 21, 22, 22]) h.reading('thermo', 'setpoint', v);
    expect(h.commands()).toHaveLength(2);
  });

  it('"for" fires once the state has held that long, and not if it changed back', () => {
    const h = new Harness(rule('{device: fridge, attribute: door, to: true, for: 2m}'));
    h.reading('fridge', 'door', true);
    h.advance(60_000);
    h.reading('fridge', 'door', false); // closed within two minutes: cancelled
    h.advance(120_000);
    expect(h.commands()).toEqual([]);
    h.reading('fridge', 'door', true);
    h.advance(119_999);
    expect(h.commands()).toEqual([]);
    h.advance(1);
    expect(h.commands()).toEqual(['buzzer.sound=true']);
    expect(h.state.timers.size).toBe(0);
  });

  it('"for" re-checks the state when its timer fires (e.g. after a restart)', () => {
    const h = new Harness(rule('{device: fridge, attribute: door, to: true, for: 2m}'));
    h.reading('fridge', 'door', true);
    const timer = [...h.state.timers.values()][0];
    expect(timer).toMatchObject({ id: 'for:r1:0', kind: 'for', dueAt: h.now + 120_000 });
    h.state.values.set('fridge\u0000door', false); // the world changed while no event reached the engine
    h.advance(120_000);
    expect(h.commands()).toEqual([]);
  });
});

describe('event triggers', () => {
  it('fault raised / cleared, with an optional code', () => {
    const h = new Harness(
      compile(`rules:
  - id: raised
    triggers: [{device: fridge, event: fault_raised, code: compressor}]
    actions: [{notify: {message: compressor fault}}]
  - id: cleared
    triggers: [{device: fridge, event: fault_cleared}]
    actions: [{notify: {message: fault cleared, severity: info}}]
`),
    );
    h.event({ kind: 'fault', deviceId: 'fridge', code: 'door', active: true, message: '' });
    h.event({ kind: 'fault', deviceId: 'fridge', code: 'compressor', active: true, message: '' });
    h.event({ kind: 'fault', deviceId: 'fridge', code: 'compressor', active: false, message: '' });
    expect(h.alerts()).toEqual(['warning: compressor fault', 'info: fault cleared']);
  });

  it('button presses, filtered by button and action', () => {
    const h = new Harness(rule('{device: button, event: button, button: main, action: double}', '[{toggle: {device: lamp, attribute: light}}]'));
    h.event({ kind: 'button', deviceId: 'button', button: 'main', action: 'single' });
    h.event({ kind: 'button', deviceId: 'button', button: 'main', action: 'double' });
    h.reading('lamp', 'light', true);
    h.event({ kind: 'button', deviceId: 'button', button: 'main', action: 'double' });
    expect(h.commands()).toEqual(['lamp.light=true', 'lamp.light=false']);
  });

  it('offline for a while', () => {
    const h = new Harness(rule('{device: fridge, event: offline, for: 5m}', '[{notify: {message: fridge offline}}]'));
    h.event({ kind: 'availability', deviceId: 'fridge', online: true });
    h.event({ kind: 'availability', deviceId: 'fridge', online: false });
    h.advance(4 * 60_000);
    h.event({ kind: 'availability', deviceId: 'fridge', online: true });
    h.advance(5 * 60_000);
    expect(h.alerts()).toEqual([]);
    h.event({ kind: 'availability', deviceId: 'fridge', online: false });
    h.advance(5 * 60_000);
    expect(h.alerts()).toEqual(['warning: fridge offline']);
  });
});

describe('time triggers', () => {
  it('"at" with weekdays fires at the next matching local time and reschedules itself', () => {
    const h = new Harness(
      compile(
        `rules:\n  - id: morning\n    triggers: [{at: "06:30", weekdays: [mon, tue, wed, thu, fri]}]\n    actions: [{set: {device: thermo, attribute: setpoint, value: 21}}]\n`,
        {},
        'Europe/Berlin',
      ),
      Date.UTC(2026, 10, 27, 12, 0), // Friday 13:00 in Berlin
    );
    h.input({ kind: 'start' });
    expect(new Date([...h.state.timers.values()][0]?.dueAt ?? 0).toISOString()).toBe('2026-11-30T05:30:00.000Z'); // Monday 06:30 CET
    h.advance(3 * 86_400_000); // to Monday 13:00
    expect(h.commands()).toEqual(['thermo.setpoint=21']);
    expect(new Date([...h.state.timers.values()][0]?.dueAt ?? 0).toISOString()).toBe('2026-12-01T05:30:00.000Z');
  });

  it('cron expressions', () => {
    const h = new Harness(
      compile(`rules:\n  - id: every5\n    triggers: [{cron: "0 */5 * * * *"}]\n    actions: [{notify: {message: tick, severity: info}}]\n`),
    );
    h.input({ kind: 'start' });
    h.advance(30 * 60_000);
    expect(h.alerts()).toHaveLength(6);
  });

  it('runs a 02:30 rule once on the spring-forward day (at 03:00) and once on the fall-back day', () => {
    const rules = compile(
      `rules:\n  - id: night\n    triggers: [{at: "02:30"}]\n    actions: [{notify: {message: night, severity: info}}]\n`,
      {},
      'Europe/Berlin',
    );
    const spring = new Harness(rules, Date.UTC(2026, 2, 28, 12, 0)); // Sat before 29 March 2026
    spring.input({ kind: 'start' });
    spring.advance(86_400_000);
    const springRuns = spring.log.flatMap((e) => e.alerts.map((a) => new Date(a.at).toISOString()));
    expect(springRuns).toEqual(['2026-03-29T01:00:00.000Z']); // 03:00 CEST: 02:30 did not exist

    const fall = new Harness(rules, Date.UTC(2026, 9, 24, 12, 0)); // Sat before 25 October 2026
    fall.input({ kind: 'start' });
    fall.advance(86_400_000);
    const fallRuns = fall.log.flatMap((e) => e.alerts.map((a) => new Date(a.at).toISOString()));
    expect(fallRuns).toEqual(['2026-10-25T00:30:00.000Z']); // the first 02:30 (CEST), not again at 02:30 CET
  });

  it('a time trigger whose timer goes off a little early fires once, and next on the following day', () => {
    const rules = compile(`rules:\n  - id: noon\n    triggers: [{at: "12:30"}]\n    actions: [{notify: {message: noon, severity: info}}]\n`, {}, 'UTC');
    const h = new Harness(rules, Date.UTC(2026, 11, 1, 12, 0));
    h.input({ kind: 'start' });
    const timer = [...h.state.timers.values()].find((t) => t.kind === 'time');
    expect(timer?.dueAt).toBe(Date.UTC(2026, 11, 1, 12, 30));
    // a scaled clock's rounding (or a clock stepped back) wakes the host 30 ms before the minute
    h.now = (timer?.dueAt as number) - 30;
    h.input({ kind: 'timer', timer: timer as NonNullable<typeof timer> });
    expect(h.alerts()).toEqual(['info: noon']);
    expect([...h.state.timers.values()].find((t) => t.kind === 'time')?.dueAt).toBe(Date.UTC(2026, 11, 2, 12, 30));
    h.advance(3_600_000);
    expect(h.alerts()).toEqual(['info: noon']); // not again at 12:30 today
  });

  it('gateway start', () => {
    const h = new Harness(rule('{start: true}', '[{notify: {message: started, severity: info}}]'));
    h.input({ kind: 'start' });
    expect(h.alerts()).toEqual(['info: started']);
  });
});
