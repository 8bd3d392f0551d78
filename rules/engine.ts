import type { AttributeValue, DeviceEvent } from '../drivers/types.ts';
import { key, type CompiledRule, type CompiledRules, type CompiledTrigger, type EventTrigger, type StateTrigger, type World } from './compile.ts';

/**
 * The rules engine. `evaluate(rules, state, input, now)` has no I/O, no clock, no timers and no
 * logging: time arrives as `now`, timers leave as requests the host schedules and persists, and
 * come back as inputs. It updates the `state` object it is given (owned by the host) and returns
 * what to do. Same rules, state and inputs give the same outputs.
 */

export interface TimerRequest {
  /** `for:<rule>:<trigger>`, `time:<rule>:<trigger>` or `delay:<rule>:<run>`; a new request replaces one with the same id. */
  readonly id: string;
  readonly ruleId: string;
  readonly kind: 'for' | 'time' | 'delay';
  readonly dueAt: number;
  readonly data: { readonly trigger?: number; readonly value?: AttributeValue; readonly runId?: number; readonly step?: number; readonly depth?: number };
}

export interface RuleCommand {
  readonly deviceId: string;
  readonly attribute: string;
  readonly value: AttributeValue;
  readonly ruleId: string;
  readonly depth: number;
}

export interface Alert {
  readonly ruleId: string;
  /** the device it is about, when the rule names one */
  readonly deviceId?: string | undefined;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly message: string;
  readonly at: number;
}

/**
 * Why did this run: one per firing (or refusal to fire). Traces are written on every firing and read
 * rarely, so the trigger and command texts are formatted when read, not when the rule fires.
 */
export class Trace {
  readonly ruleId: string;
  readonly at: number;
  readonly conditions: ReadonlyArray<{ readonly text: string; readonly result: boolean }>;
  outcome = '';
  readonly #trigger: string | (() => string);
  readonly #commands: Array<{ device: string; attribute: string; value: AttributeValue }> = [];

  constructor(ruleId: string, at: number, trigger: string | (() => string), conditions: Trace['conditions']) {
    this.ruleId = ruleId;
    this.at = at;
    this.#trigger = trigger;
    this.conditions = conditions;
  }

  get trigger(): string {
    return typeof this.#trigger === 'string' ? this.#trigger : this.#trigger();
  }

  get commands(): string[] {
    return this.#commands.map((c) => `${c.device}.${c.attribute} = ${typeof c.value === 'string' ? JSON.stringify(c.value) : c.value}`);
  }

  addCommand(device: string, attribute: string, value: AttributeValue): void {
    this.#commands.push({ device, attribute, value });
  }

  toJSON(): object {
    return { ruleId: this.ruleId, at: this.at, trigger: this.trigger, conditions: this.conditions, commands: this.commands, outcome: this.outcome };
  }
}

/** `start`: the gateway started (start triggers fire, time triggers are scheduled); `reload`: a new rule set was activated (time triggers without a pending timer are scheduled). */
export type RuleInput =
  | { readonly kind: 'event'; readonly event: DeviceEvent }
  | { readonly kind: 'timer'; readonly timer: TimerRequest }
  | { readonly kind: 'start' }
  | { readonly kind: 'reload' };

export interface RuleState {
  readonly values: Map<string, AttributeValue>;
  readonly online: Map<string, boolean>;
  readonly timers: Map<string, TimerRequest>;
  readonly runs: Map<string, { active: Set<number>; queue: Array<{ trigger: string; depth: number }> }>;
  /** Rules stopped at run time (cascade limit). */
  readonly disabled: Set<string>;
  /**
   * Devices that just received a command from a rule. Their next reading (of any attribute: a device
   * may couple them, setting `x` changes `z`) within ECHO_MS that triggers *that same rule* again
   * counts as one more step of a loop through the device. Other rules triggered by it start at depth
   * 0, so a device that is both actuator and sensor does not look like a loop (the static check
   * already refuses loops between rules).
   */
  readonly echo: Map<string, { ruleId: string; depth: number; until: number }>;
  nextRunId: number;
}

export interface Evaluation {
  readonly commands: RuleCommand[];
  readonly timers: TimerRequest[];
  readonly cancelled: string[];
  readonly alerts: Alert[];
  readonly traces: Trace[];
}

/** How long a reading counts as the echo of a command a rule sent (for cascade depth). */
export const ECHO_MS = 5000;

export function initialState(values: Iterable<[string, string, AttributeValue]> = [], online: Iterable<[string, boolean]> = []): RuleState {
  const state: RuleState = {
    values: new Map(),
    online: new Map(online),
    timers: new Map(),
    runs: new Map(),
    disabled: new Set(),
    echo: new Map(),
    nextRunId: 1,
  };
  for (const [d, a, v] of values) state.values.set(key(d, a), v);
  return state;
}

export function evaluate(rules: CompiledRules, state: RuleState, input: RuleInput, now: number): Evaluation {
  const out: Evaluation = { commands: [], timers: [], cancelled: [], alerts: [], traces: [] };
  const ctx: Ctx = { rules, state, out, now, world: worldOf(state), nextRuns: undefined };
  if (input.kind === 'start') {
    for (const t of rules.timeTriggers) scheduleTime(ctx, t);
    for (const t of rules.startTriggers) fire(ctx, t.rule, 'gateway started', 0);
  } else if (input.kind === 'reload') {
    for (const t of rules.timeTriggers) if (!state.timers.has(`time:${t.rule.id}:${t.index}`)) scheduleTime(ctx, t);
  } else if (input.kind === 'timer') {
    onTimer(ctx, input.timer);
  } else {
    onEvent(ctx, input.event);
  }
  return out;
}

/** `nextRuns`: each schedule's next run from `now`, asked once per evaluation (rules share schedules); made when first needed. */
type Ctx = { rules: CompiledRules; state: RuleState; out: Evaluation; now: number; world: World; nextRuns: Map<object, Date | null> | undefined };

/** The read view rules evaluate conditions against; one per state, not one per event. */
const worlds = new WeakMap<RuleState, World>();
function worldOf(state: RuleState): World {
  let world = worlds.get(state);
  if (!world) {
    world = { value: (d, a) => state.values.get(key(d, a)), online: (d) => state.online.get(d) ?? false };
    worlds.set(state, world);
  }
  return world;
}

function onEvent(ctx: Ctx, e: DeviceEvent): void {
  const { state, rules, now } = ctx;
  if (e.kind === 'reading') {
    const k = key(e.deviceId, e.attribute);
    const old = state.values.get(k);
    state.values.set(k, e.value);
    const triggers = rules.stateIndex.get(k);
    if (!triggers) return;
    let echo = state.echo.get(e.deviceId);
    if (echo) {
      state.echo.delete(e.deviceId);
      if (now > echo.until) echo = undefined;
    }
    for (const t of triggers) onState(ctx, t, t.def as StateTrigger, old, e.value, echo?.ruleId === t.rule.id ? echo.depth : 0);
    return;
  }
  if (e.kind === 'availability') {
    if (state.online.get(e.deviceId) === e.online) return;
    state.online.set(e.deviceId, e.online);
  }
  for (const t of rules.eventIndex.get(e.deviceId) ?? []) {
    const def = t.def as EventTrigger;
    if (e.kind === 'availability' && (def.event === 'online' || def.event === 'offline')) {
      const holds = e.online === (def.event === 'online');
      if (t.forMs === undefined) {
        if (holds) fire(ctx, t.rule, `${e.deviceId} went ${def.event}`, 0);
      } else if (holds) schedule(ctx, { id: forId(t), ruleId: t.rule.id, kind: 'for', dueAt: now + t.forMs, data: { trigger: t.index } });
      else cancel(ctx, forId(t));
    } else if (e.kind === 'fault' && def.event === (e.active ? 'fault_raised' : 'fault_cleared') && (def.code === undefined || def.code === e.code)) {
      fire(ctx, t.rule, `${e.deviceId} fault ${e.code} ${e.active ? 'raised' : 'cleared'}`, 0);
    } else if (
      e.kind === 'button' &&
      def.event === 'button' &&
      (def.button === undefined || def.button === e.button) &&
      (def.action === undefined || def.action === e.action)
    ) {
      fire(ctx, t.rule, `${e.deviceId} button ${e.button} ${e.action}`, 0);
    }
  }
}

/** Whether a value is in the state a trigger waits for (`to`, `above`, `below`); undefined for "any change". */
function holds(def: StateTrigger, v: AttributeValue | undefined): boolean | undefined {
  if (def.to === undefined && def.above === undefined && def.below === undefined) return undefined;
  if (v === undefined) return false;
  if (def.to !== undefined && v !== def.to) return false;
  if (def.above !== undefined && !(typeof v === 'number' && v > def.above)) return false;
  if (def.below !== undefined && !(typeof v === 'number' && v < def.below)) return false;
  return true;
}

function onState(ctx: Ctx, t: CompiledTrigger, def: StateTrigger, old: AttributeValue | undefined, value: AttributeValue, depth: number): void {
  const now = holds(def, value);
  const transition = (now === undefined ? old !== undefined && old !== value : now && holds(def, old) !== true) && (def.from === undefined || old === def.from);
  if (t.forMs === undefined) {
    if (transition) fire(ctx, t.rule, () => `${def.device}.${def.attribute} ${JSON.stringify(old ?? null)} -> ${JSON.stringify(value)}`, depth);
    return;
  }
  const id = forId(t);
  const pending = ctx.state.timers.get(id);
  if (transition) schedule(ctx, { id, ruleId: t.rule.id, kind: 'for', dueAt: ctx.now + t.forMs, data: { trigger: t.index, value, depth } });
  else if (pending && (now === false || (now === undefined && pending.data.value !== value))) cancel(ctx, id);
}

function onTimer(ctx: Ctx, timer: TimerRequest): void {
  const { state, rules } = ctx;
  if (state.timers.get(timer.id)?.dueAt !== timer.dueAt) return; // cancelled or replaced meanwhile
  state.timers.delete(timer.id);
  const rule = rules.rules.get(timer.ruleId);
  if (!rule) return;
  if (timer.kind === 'delay') {
    continueRun(ctx, rule, timer.data.runId ?? 0, timer.data.step ?? 0, timer.data.depth ?? 0, newTrace(ctx, rule, 'delay elapsed', []));
    return;
  }
  const t = rule.triggers[timer.data.trigger ?? -1];
  if (!t) return;
  if (timer.kind === 'time') {
    fire(ctx, rule, 'at' in t.def ? `time ${t.def.at}` : `cron ${(t.def as { cron: string }).cron}`, 0);
    // the next run after this one, even if the timer went off a little early (a scaled clock's
    // rounding, a clock stepped back): from `now` it would be this same minute again, and fire twice
    scheduleTime(ctx, t, timer.dueAt);
    return;
  }
  // for: fires only if the state still holds after the wait (it may have changed while we were down)
  if ('attribute' in t.def) {
    const def = t.def;
    const current = ctx.world.value(def.device, def.attribute);
    const still = holds(def, current) ?? current === timer.data.value;
    if (still) fire(ctx, rule, `${def.device}.${def.attribute} = ${JSON.stringify(current)} for ${def.for}`, timer.data.depth ?? 0);
  } else if ('event' in t.def) {
    const def = t.def;
    if (ctx.world.online(def.device) === (def.event === 'online')) fire(ctx, rule, `${def.device} ${def.event} for ${def.for}`, 0);
  }
}

function fire(ctx: Ctx, rule: CompiledRule, trigger: string | (() => string), depth: number): void {
  const { state, now } = ctx;
  if (!rule.def.enabled || state.disabled.has(rule.id)) {
    newTrace(ctx, rule, trigger, []).outcome = 'skipped: rule disabled';
    return;
  }
  if (depth > ctx.rules.cascadeLimit) {
    state.disabled.add(rule.id);
    const message = `rule ${rule.id} disabled: rules triggered each other ${depth} deep (limit ${ctx.rules.cascadeLimit})`;
    ctx.out.alerts.push({ ruleId: rule.id, severity: 'critical', message, at: now });
    newTrace(ctx, rule, trigger, []).outcome = `stopped: ${message}`;
    return;
  }
  const conditions = rule.conditions.length === 0 ? NO_CONDITIONS : rule.conditions.map((c) => ({ text: c.text, result: c.test(ctx.world, now) }));
  const trace = newTrace(ctx, rule, trigger, conditions);
  if (conditions.some((c) => !c.result)) {
    trace.outcome = 'conditions not met';
    return;
  }
  let run = state.runs.get(rule.id);
  if (!run) {
    run = { active: new Set(), queue: [] };
    state.runs.set(rule.id, run);
  }
  const { mode, max } = rule.def;
  if (run.active.size > 0 && mode === 'single') {
    trace.outcome = 'skipped: already running (mode single)';
    return;
  }
  if (run.active.size > 0 && mode === 'queued') {
    if (run.queue.length < max) {
      run.queue.push({ trigger: typeof trigger === 'string' ? trigger : trigger(), depth });
      trace.outcome = `queued (${run.queue.length} waiting)`;
    } else trace.outcome = `skipped: queue full (${max})`;
    return;
  }
  if (mode === 'parallel' && run.active.size >= max) {
    trace.outcome = `skipped: ${max} runs already in progress`;
    return;
  }
  if (mode === 'restart') {
    for (const runId of run.active) cancel(ctx, `delay:${rule.id}:${runId}`);
    run.active.clear();
  }
  continueRun(ctx, rule, state.nextRunId++, 0, depth, trace);
}

function continueRun(ctx: Ctx, rule: CompiledRule, runId: number, step: number, depth: number, trace: Trace): void {
  const { state, now, out } = ctx;
  let run = state.runs.get(rule.id);
  if (!run) {
    run = { active: new Set<number>(), queue: [] };
    state.runs.set(rule.id, run);
  }
  for (let i = step; i < rule.actions.length; i++) {
    const a = rule.actions[i] as (typeof rule.actions)[number];
    if (a.kind === 'set' || a.kind === 'toggle') {
      const value = a.kind === 'set' ? a.value : ctx.world.value(a.device, a.attribute) !== true;
      out.commands.push({ deviceId: a.device, attribute: a.attribute, value, ruleId: rule.id, depth: depth + 1 });
      state.echo.set(a.device, { ruleId: rule.id, depth: depth + 1, until: now + ECHO_MS });
      trace.addCommand(a.device, a.attribute, value);
    } else if (a.kind === 'notify') {
      out.alerts.push({ ruleId: rule.id, severity: a.severity, message: a.message, at: now, ...(a.device ? { deviceId: a.device } : {}) });
    } else if (a.kind === 'cancel') {
      for (const t of [...state.timers.values()]) if (t.ruleId === a.rule && t.kind !== 'time') cancel(ctx, t.id);
      const target = state.runs.get(a.rule);
      if (target) {
        target.active.clear();
        target.queue.length = 0;
      }
    } else {
      run.active.add(runId);
      schedule(ctx, { id: `delay:${rule.id}:${runId}`, ruleId: rule.id, kind: 'delay', dueAt: now + a.ms, data: { runId, step: i + 1, depth } });
      trace.outcome = `waiting ${a.ms} ms (delay)`;
      return;
    }
  }
  run.active.delete(runId);
  trace.outcome = 'ran';
  const next = run.active.size === 0 ? run.queue.shift() : undefined;
  if (next) continueRun(ctx, rule, state.nextRunId++, 0, next.depth, newTrace(ctx, rule, `${next.trigger} (queued)`, []));
}

function scheduleTime(ctx: Ctx, t: CompiledTrigger, after?: number): void {
  const cron = t.cron;
  if (!cron) return;
  ctx.nextRuns ??= new Map();
  let next = after !== undefined && after > ctx.now ? cron.nextRun(new Date(after)) : ctx.nextRuns.get(cron);
  if (next === undefined) ctx.nextRuns.set(cron, (next = cron.nextRun(new Date(ctx.now))));
  if (!next) return;
  schedule(ctx, { id: `time:${t.rule.id}:${t.index}`, ruleId: t.rule.id, kind: 'time', dueAt: next.getTime(), data: { trigger: t.index } });
}

function schedule(ctx: Ctx, timer: TimerRequest): void {
  ctx.state.timers.set(timer.id, timer);
  ctx.out.timers.push(timer);
}

function cancel(ctx: Ctx, id: string): void {
  if (ctx.state.timers.delete(id)) ctx.out.cancelled.push(id);
}

const NO_CONDITIONS: Trace['conditions'] = Object.freeze([]);

const forId = (t: CompiledTrigger) => `for:${t.rule.id}:${t.index}`;

function newTrace(ctx: Ctx, rule: CompiledRule, trigger: string | (() => string), conditions: Trace['conditions']): Trace {
  const trace = new Trace(rule.id, ctx.now, trigger, conditions);
  ctx.out.traces.push(trace);
  return trace;
}
