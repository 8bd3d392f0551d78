import { Cron } from 'croner';
import type { AttributeSpec, AttributeValue } from '../drivers/types.ts';
import { opensAccess } from './access.ts';
import { parseClock, parseDuration } from './duration.ts';
import { inWindow, isTimeZone, localTime, WEEKDAYS } from './localTime.ts';
import type { ActionDef, ConditionDef, RuleDef, RuleFile, TariffDef, TriggerDef } from './schema.ts';

/** What the compiler knows about devices: their attributes (from the device registry). */
export type Catalog = (deviceId: string) => { readonly attributes: Readonly<Record<string, AttributeSpec>> } | undefined;

export interface CompileOptions {
  readonly catalog: Catalog;
  readonly timezone: string;
  readonly tariffs: Readonly<Record<string, TariffDef>>;
  /** A cascade deeper than this stops and disables the rule. */
  readonly cascadeLimit: number;
  /** Where a path of the rule file is, e.g. "rules.yaml:12:7". */
  readonly where: (path: ReadonlyArray<string | number>) => string;
}

export interface RuleProblem {
  readonly where: string;
  readonly message: string;
}

/** What rules read at evaluation time. */
export interface World {
  value(deviceId: string, attribute: string): AttributeValue | undefined;
  online(deviceId: string): boolean;
}

export type Condition = (world: World, now: number) => boolean;

export type StateTrigger = Extract<TriggerDef, { attribute: string }>;
export type EventTrigger = Extract<TriggerDef, { event: string }>;

export interface CompiledTrigger {
  readonly rule: CompiledRule;
  readonly index: number;
  readonly def: TriggerDef;
  readonly forMs: number | undefined;
  /** Time and cron triggers: the schedule. */
  readonly cron: Cron | undefined;
}

export type CompiledAction =
  | { kind: 'set'; device: string; attribute: string; value: AttributeValue }
  | { kind: 'toggle'; device: string; attribute: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'notify'; message: string; severity: 'info' | 'warning' | 'critical'; device?: string | undefined }
  | { kind: 'cancel'; rule: string };

export interface CompiledRule {
  readonly id: string;
  readonly def: RuleDef;
  /** Identity of the definition: timers of a rule whose hash is unchanged survive a reload. */
  readonly hash: string;
  readonly triggers: CompiledTrigger[];
  readonly conditions: ReadonlyArray<{ text: string; test: Condition }>;
  /** Scenes expanded into sets. */
  readonly actions: readonly CompiledAction[];
  /** it may unlock a lock or open an entrance (it says `allowUnlock: true`, and an action does) */
  readonly unlocks: boolean;
}

export interface CompiledRules {
  readonly rules: ReadonlyMap<string, CompiledRule>;
  /** deviceId \0 attribute -> state triggers reading it */
  readonly stateIndex: ReadonlyMap<string, readonly CompiledTrigger[]>;
  /** deviceId -> event triggers */
  readonly eventIndex: ReadonlyMap<string, readonly CompiledTrigger[]>;
  readonly timeTriggers: readonly CompiledTrigger[];
  readonly startTriggers: readonly CompiledTrigger[];
  readonly timezone: string;
  readonly cascadeLimit: number;
}

export const key = (deviceId: string, attribute: string): string => `${deviceId}\u0000${attribute}`;

export type CompileResult = { ok: true; rules: CompiledRules } | { ok: false; problems: RuleProblem[] };

/** Compiles a validated rule file; every problem is reported with its file:line:column. */
export function compileRules(file: RuleFile, o: CompileOptions): CompileResult {
  const steps = compileSteps(file, o);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Rules compiled between two pauses of `compileSteps` (~13 µs each: a few ms per step). */
export const RULES_PER_STEP = 100;

/**
 * `compileRules` in steps: it pauses after every RULES_PER_STEP rules, so a host can let its event loop
 * run between them (a 5,000-rule file takes ~65 ms to compile). Pure like the rest: no timers here.
 */
export function* compileSteps(file: RuleFile, o: CompileOptions): Generator<void, CompileResult> {
  const problems: RuleProblem[] = [];
  const problem = (path: ReadonlyArray<string | number>, message: string) => problems.push({ where: o.where(path), message });
  const knownZone = isTimeZone(o.timezone);
  if (!knownZone) problem([], `timezone "${o.timezone}" is not a known IANA time zone`);

  const spec = (path: ReadonlyArray<string | number>, device: string, attribute: string): AttributeSpec | undefined => {
    const d = o.catalog(device);
    if (!d) {
      problem(path, `unknown device "${device}"`);
      return undefined;
    }
    const s = d.attributes[attribute];
    if (!s) problem(path, `device "${device}" has no attribute "${attribute}" (it has: ${Object.keys(d.attributes).join(', ') || 'none'})`);
    return s;
  };
  const checkWrite = (path: ReadonlyArray<string | number>, device: string, attribute: string, value: AttributeValue | undefined, rule: CompiledRule) => {
    const s = spec(path, device, attribute);
    if (!s) return;
    if (opensAccess(s, value) || (value === undefined && s.deviceClass === 'lock')) {
      if (!rule.def.allowUnlock)
        problem(
          path,
          `${device}.${attribute} = ${JSON.stringify(value ?? 'toggle')} unlocks or opens a way in: a rule may do that only with allowUnlock: true`,
        );
      else (rule as { unlocks: boolean }).unlocks = true;
    }
    if (!s.writable) problem(path, `${device}.${attribute} is read-only`);
    else if (value !== undefined && typeof value !== s.type) problem(path, `${device}.${attribute} takes a ${s.type}, got ${JSON.stringify(value)}`);
    else if (value === undefined && s.type !== 'boolean') problem(path, `${device}.${attribute} is a ${s.type}; toggle needs a boolean`);
    else if (typeof value === 'number' && ((s.min !== undefined && value < s.min) || (s.max !== undefined && value > s.max))) {
      problem(path, `${device}.${attribute}: ${value} is outside ${s.min ?? '-inf'}..${s.max ?? 'inf'}`);
    } else if (typeof value === 'string' && (s.commands ?? s.options) && !(s.commands ?? s.options)?.includes(value)) {
      problem(path, `${device}.${attribute} takes one of ${(s.commands ?? s.options)?.join(', ')}, got ${JSON.stringify(value)}`);
    }
  };

  // One paused Cron per distinct pattern: rules only ask it for the next run, and croner 11 allocates
  // ~80 KB per instance (a 10,000-entry year table), 400 MB for 5,000 time triggers otherwise.
  const schedules = new Map<string, Cron>();
  const schedule = (pattern: string): Cron => {
    let cron = schedules.get(pattern);
    if (!cron) schedules.set(pattern, (cron = new Cron(pattern, { timezone: knownZone ? o.timezone : 'UTC', paused: true })));
    return cron;
  };
  const ids = new Set<string>();
  const rules = new Map<string, CompiledRule>();
  for (const [ri, def] of file.rules.entries()) {
    if (ri > 0 && ri % RULES_PER_STEP === 0) yield;
    const base = ['rules', ri];
    if (ids.has(def.id)) problem([...base, 'id'], `duplicate rule id "${def.id}"`);
    ids.add(def.id);
    const triggers: CompiledTrigger[] = [];
    const rule: CompiledRule = { id: def.id, def, hash: JSON.stringify(def), triggers, conditions: [], actions: [], unlocks: false };
    for (const [ti, t] of def.triggers.entries()) {
      const path = [...base, 'triggers', ti];
      let cron: Cron | undefined;
      if ('attribute' in t) {
        const s = spec(path, t.device, t.attribute);
        if (s && (t.above !== undefined || t.below !== undefined) && s.type !== 'number')
          problem(path, `${t.device}.${t.attribute} is a ${s.type}; above/below need a number`);
        if (s && t.to !== undefined && typeof t.to !== s.type) problem(path, `${t.device}.${t.attribute} is a ${s.type}, "to" is ${JSON.stringify(t.to)}`);
      } else if ('event' in t) {
        if (!o.catalog(t.device)) problem(path, `unknown device "${t.device}"`);
        if (t.for !== undefined && t.event !== 'online' && t.event !== 'offline') problem(path, `"for" applies to online/offline, not to ${t.event}`);
      } else if ('at' in t || 'cron' in t) {
        const pattern = 'at' in t ? atToCron(t.at, t.weekdays) : t.cron;
        try {
          cron = schedule(pattern);
        } catch (err) {
          problem(path, `cron "${pattern}": ${(err as Error).message}`);
        }
      }
      const forMs = 'for' in t && t.for !== undefined ? parseDuration(t.for) : undefined;
      triggers.push({ rule, index: ti, def: t, forMs, cron });
    }
    const conditions = def.conditions.map((c, ci) => ({
      text: describeCondition(c),
      test: compileCondition(c, [...base, 'conditions', ci], o, spec, problem),
    }));
    const actions: CompiledAction[] = [];
    for (const [ai, a] of def.actions.entries()) {
      const path = [...base, 'actions', ai];
      for (const compiled of compileAction(a, path, file, problem)) {
        if (compiled.kind === 'set') checkWrite(path, compiled.device, compiled.attribute, compiled.value, rule);
        if (compiled.kind === 'toggle') checkWrite(path, compiled.device, compiled.attribute, undefined, rule);
        if (compiled.kind === 'notify' && compiled.device !== undefined && !o.catalog(compiled.device)) problem(path, `unknown device "${compiled.device}"`);
        actions.push(compiled);
      }
    }
    Object.assign(rule, { conditions, actions });
    rules.set(def.id, rule);
  }
  for (const [ri, def] of file.rules.entries()) {
    for (const [ai, a] of def.actions.entries()) {
      if ('cancel' in a && !ids.has(a.cancel.rule)) problem(['rules', ri, 'actions', ai], `cancel: no rule "${a.cancel.rule}"`);
    }
  }
  const cycle = findCycle(rules);
  if (cycle) {
    const first = file.rules.findIndex((r) => r.id === cycle[0]);
    problem(['rules', first], `rules trigger each other in a cycle: ${cycle.join(' -> ')} (each one's actions set what triggers the next)`);
  }
  if (problems.length > 0) return { ok: false, problems };

  const stateIndex = new Map<string, CompiledTrigger[]>();
  const eventIndex = new Map<string, CompiledTrigger[]>();
  const timeTriggers: CompiledTrigger[] = [];
  const startTriggers: CompiledTrigger[] = [];
  const push = <K>(m: Map<K, CompiledTrigger[]>, k: K, t: CompiledTrigger) => {
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  };
  for (const rule of rules.values()) {
    for (const t of rule.triggers) {
      if ('attribute' in t.def) push(stateIndex, key(t.def.device, t.def.attribute), t);
      else if ('event' in t.def) push(eventIndex, t.def.device, t);
      else if ('start' in t.def) startTriggers.push(t);
      else timeTriggers.push(t);
    }
  }
  return { ok: true, rules: { rules, stateIndex, eventIndex, timeTriggers, startTriggers, timezone: o.timezone, cascadeLimit: o.cascadeLimit } };
}

/** `06:30` on mon,fri -> `0 30 6 * * 1,5` (seconds first, as croner takes it). */
export function atToCron(at: string, weekdays: readonly string[] | undefined): string {
  const minutes = parseClock(at) as number;
  const dow = weekdays && weekdays.length > 0 ? weekdays.map((d) => WEEKDAYS.indexOf(d as never)).join(',') : '*';
  return `0 ${minutes % 60} ${Math.floor(minutes / 60)} * * ${dow}`;
}

function compileAction(
  a: ActionDef,
  path: ReadonlyArray<string | number>,
  file: RuleFile,
  problem: (p: ReadonlyArray<string | number>, m: string) => void,
): CompiledAction[] {
  if ('set' in a) return [{ kind: 'set', ...a.set }];
  if ('toggle' in a) return [{ kind: 'toggle', ...a.toggle }];
  if ('delay' in a) return [{ kind: 'delay', ms: parseDuration(a.delay) as number }];
  if ('notify' in a) return [{ kind: 'notify', message: a.notify.message, severity: a.notify.severity, device: a.notify.device }];
  if ('cancel' in a) return [{ kind: 'cancel', rule: a.cancel.rule }];
  const scene = Object.hasOwn(file.scenes, a.scene) ? file.scenes[a.scene] : undefined;
  if (!scene) {
    problem(path, `unknown scene "${a.scene}" (scenes: ${Object.keys(file.scenes).join(', ') || 'none'})`);
    return [];
  }
  return scene.map((s) => ({ kind: 'set', device: s.device, attribute: s.attribute, value: s.value }));
}

function compileCondition(
  c: ConditionDef,
  path: ReadonlyArray<string | number>,
  o: CompileOptions,
  spec: (p: ReadonlyArray<string | number>, d: string, a: string) => AttributeSpec | undefined,
  problem: (p: ReadonlyArray<string | number>, m: string) => void,
): Condition {
  if ('and' in c) {
    const parts = c.and.map((x, i) => compileCondition(x, [...path, 'and', i], o, spec, problem));
    return (w, now) => parts.every((p) => p(w, now));
  }
  if ('or' in c) {
    const parts = c.or.map((x, i) => compileCondition(x, [...path, 'or', i], o, spec, problem));
    return (w, now) => parts.some((p) => p(w, now));
  }
  if ('not' in c) {
    const inner = compileCondition(c.not, [...path, 'not'], o, spec, problem);
    return (w, now) => !inner(w, now);
  }
  if ('time' in c) {
    const from = parseClock(c.time.after) as number;
    const to = parseClock(c.time.before) as number;
    return (_w, now) => inWindow(localTime(now, o.timezone).minuteOfDay, from, to);
  }
  if ('weekdays' in c) {
    const days = new Set(c.weekdays.map((d) => WEEKDAYS.indexOf(d)));
    return (_w, now) => days.has(localTime(now, o.timezone).weekday);
  }
  if ('tariff' in c) {
    const t = Object.hasOwn(o.tariffs, c.tariff) ? o.tariffs[c.tariff] : undefined;
    if (!t) {
      problem(path, `unknown tariff "${c.tariff}" (config tariffs: ${Object.keys(o.tariffs).join(', ') || 'none'})`);
      return () => false;
    }
    const from = parseClock(t.from) as number;
    const to = parseClock(t.to) as number;
    const days = t.weekdays ? new Set(t.weekdays.map((d) => WEEKDAYS.indexOf(d))) : undefined;
    return (_w, now) => {
      const lt = localTime(now, o.timezone);
      return inWindow(lt.minuteOfDay, from, to) && (!days || days.has(lt.weekday));
    };
  }
  if ('online' in c) {
    if (!o.catalog(c.online)) problem(path, `unknown device "${c.online}"`);
    return (w) => w.online(c.online);
  }
  const s = spec(path, c.device, c.attribute);
  if (s && (c.above !== undefined || c.below !== undefined) && s.type !== 'number')
    problem(path, `${c.device}.${c.attribute} is a ${s.type}; above/below need a number`);
  return (w) => {
    const v = w.value(c.device, c.attribute);
    if (v === undefined) return false;
    if (c.equals !== undefined && v !== c.equals) return false;
    if (c.not_equals !== undefined && v === c.not_equals) return false;
    if (c.above !== undefined && !(typeof v === 'number' && v > c.above)) return false;
    if (c.below !== undefined && !(typeof v === 'number' && v < c.below)) return false;
    return true;
  };
}

export function describeCondition(c: ConditionDef): string {
  if ('and' in c) return `(${c.and.map(describeCondition).join(' and ')})`;
  if ('or' in c) return `(${c.or.map(describeCondition).join(' or ')})`;
  if ('not' in c) return `not ${describeCondition(c.not)}`;
  if ('time' in c) return `time between ${c.time.after} and ${c.time.before}`;
  if ('weekdays' in c) return `weekday in ${c.weekdays.join(',')}`;
  if ('tariff' in c) return `tariff ${c.tariff}`;
  if ('online' in c) return `${c.online} online`;
  const parts = [
    c.equals !== undefined ? `= ${JSON.stringify(c.equals)}` : '',
    c.not_equals !== undefined ? `!= ${JSON.stringify(c.not_equals)}` : '',
    c.above !== undefined ? `> ${c.above}` : '',
    c.below !== undefined ? `< ${c.below}` : '',
  ].filter(Boolean);
  return `${c.device}.${c.attribute} ${parts.join(' and ') || 'has a value'}`;
}

/** A cycle in "rule A's actions set what triggers rule B", as rule ids, or undefined. */
function findCycle(rules: ReadonlyMap<string, CompiledRule>): string[] | undefined {
  const triggeredBy = new Map<string, string[]>();
  for (const r of rules.values()) {
    for (const t of r.triggers) {
      if (!('attribute' in t.def)) continue;
      const k = key(t.def.device, t.def.attribute);
      triggeredBy.set(k, [...(triggeredBy.get(k) ?? []), r.id]);
    }
  }
  const next = (r: CompiledRule): string[] => {
    const out = new Set<string>();
    for (const a of r.actions) if (a.kind === 'set' || a.kind === 'toggle') for (const id of triggeredBy.get(key(a.device, a.attribute)) ?? []) out.add(id);
    return [...out];
  };
  // Depth-first with an explicit stack (a long chain of rules must not exhaust the call stack).
  const color = new Map<string, 'grey' | 'black'>();
  for (const root of rules.keys()) {
    if (color.has(root)) continue;
    const path: string[] = [root];
    const pending: string[][] = [next(rules.get(root) as CompiledRule)];
    color.set(root, 'grey');
    while (path.length > 0) {
      const todo = pending[pending.length - 1] as string[];
      const n = todo.pop();
      if (n === undefined) {
        color.set(path.pop() as string, 'black');
        pending.pop();
        continue;
      }
      if (color.get(n) === 'grey') return [...path.slice(path.indexOf(n)), n];
      if (color.has(n)) continue;
      color.set(n, 'grey');
      path.push(n);
      pending.push(next(rules.get(n) as CompiledRule));
    }
  }
  return undefined;
}
