import type { AttributeSpec, DeviceEvent } from '../../drivers/types.ts';
import type { CompiledRules } from '../../rules/compile.ts';
import { evaluate, initialState, type Evaluation, type RuleInput, type RuleState } from '../../rules/engine.ts';
import { checkRulesText, formatProblems } from '../../rules/load.ts';

/** Omit over each member of a union. */
type WithoutTs<T> = T extends unknown ? Omit<T, 'ts'> : never;

const num = (writable = false, extra: Partial<AttributeSpec> = {}): AttributeSpec => ({ type: 'number', writable, ...extra });
const bool = (writable = false): AttributeSpec => ({ type: 'boolean', writable });

/** A shop and a home, as the rules see them. */
export const CATALOG: Record<string, Record<string, AttributeSpec>> = {
  fridge: { temperature: num(), door: bool(), setpoint: num(true, { min: -25, max: 12 }) },
  buzzer: { sound: bool(true) },
  thermo: { temperature: num(), setpoint: num(true, { min: 5, max: 30 }) },
  boiler: { relay: bool(true) },
  lamp: { light: bool(true), light_brightness: num(true, { min: 0, max: 100 }) },
  button: {},
  a: { x: num(true), z: num() },
  b: { y: num(true) },
};

export const catalog = (id: string) => (CATALOG[id] ? { attributes: CATALOG[id] as Record<string, AttributeSpec> } : undefined);

export function compile(yaml: string, tariffs = {}, timezone = 'UTC', cascadeLimit = 5): CompiledRules {
  const r = checkRulesText(yaml, 'rules.yaml', { catalog, timezone, tariffs, cascadeLimit });
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.rules;
}

export function problemsOf(yaml: string, tariffs = {}): string[] {
  const r = checkRulesText(yaml, 'rules.yaml', { catalog, timezone: 'UTC', tariffs, cascadeLimit: 5 });
  if (r.ok) throw new Error('expected problems');
  return r.problems.map((p) => `${p.where}: ${p.message}`);
}

/** A tiny host: feeds inputs, remembers everything the engine asked for, fires due timers in order. */
export class Harness {
  readonly state: RuleState = initialState();
  readonly log: Evaluation[] = [];
  now: number;
  constructor(
    readonly rules: CompiledRules,
    start = Date.UTC(2026, 10, 23, 12, 0, 0),
  ) {
    this.now = start;
  }
  input(i: RuleInput): Evaluation {
    const out = evaluate(this.rules, this.state, i, this.now);
    this.log.push(out);
    return out;
  }
  reading(deviceId: string, attribute: string, value: number | boolean | string): Evaluation {
    return this.input({ kind: 'event', event: { kind: 'reading', deviceId, attribute, value, ts: this.now } });
  }
  event(e: WithoutTs<DeviceEvent>): Evaluation {
    return this.input({ kind: 'event', event: { ...e, ts: this.now } as DeviceEvent });
  }
  /** Advances time, firing every timer that falls due, in due order. */
  advance(ms: number): Evaluation[] {
    const until = this.now + ms;
    const fired: Evaluation[] = [];
    for (;;) {
      const next = [...this.state.timers.values()].filter((t) => t.dueAt <= until).sort((a, b) => a.dueAt - b.dueAt)[0];
      if (!next) break;
      this.now = Math.max(this.now, next.dueAt);
      fired.push(this.input({ kind: 'timer', timer: next }));
    }
    this.now = until;
    return fired;
  }
  commands(): string[] {
    return this.log.flatMap((e) => e.commands.map((c) => `${c.deviceId}.${c.attribute}=${JSON.stringify(c.value)}`));
  }
  alerts(): string[] {
    return this.log.flatMap((e) => e.alerts.map((a) => `${a.severity}: ${a.message}`));
  }
  outcomes(ruleId?: string): string[] {
    return this.log.flatMap((e) => e.traces.filter((t) => !ruleId || t.ruleId === ruleId).map((t) => t.outcome));
  }
}
