import type { AttributeValue } from '../../drivers/types.ts';
import { basename } from 'node:path';
import { compileSteps, type CompiledRules, type CompileResult, type RuleProblem } from '../../rules/compile.ts';
import { evaluate, initialState, type Alert, type Evaluation, type RuleInput, type RuleState, type TimerRequest, type Trace } from '../../rules/engine.ts';
import type { RuleDef, RuleFile, TariffDef } from '../../rules/schema.ts';
import type { Clock } from '../clock.ts';
import type { AlertSink } from '../alerts.ts';
import type { GatewayBus } from '../core/events.ts';
import type { Hub } from '../hub.ts';
import type { Logger } from '../log.ts';
import type { DeviceRegistry } from '../store/registry.ts';
import { opensAccess } from '../../rules/access.ts';
import { RuleChecker } from './ruleChecker.ts';
import type { RuleEdit } from './ruleEdits.ts';
import type { TimerStore } from '../store/timers.ts';

export interface RuleHostOptions {
  readonly timezone: string;
  readonly tariffs: Readonly<Record<string, TariffDef>>;
  readonly cascadeLimit: number;
  /** Traces kept per rule ("why did this run"). */
  readonly traceLimit: number;
}

/** A time or cron trigger missed by no more than this while the gateway was down still runs at start. */
export const TIME_TRIGGER_GRACE_MS = 5 * 60_000;

export type LoadOutcome = { ok: true; rules: number } | { ok: false; problems: RuleProblem[] };
/** A checked rule text: its validated contents, or its problems with file:line:column. */
/** `unlocking`: the rules that may unlock a lock or open an entrance (allowUnlock: true) */
export type CheckOutcome = { ok: true; data: RuleFile; count: number; unlocking: string[] } | { ok: false; problems: RuleProblem[] };

/**
 * Runs the pure rules engine inside the gateway: feeds it hub events and fired timers, sends the
 * commands it returns through the hub, schedules and persists its timer requests (so a `for:` or a
 * delay pending at a crash resumes after restart), and records traces and alerts.
 *
 * Catch-up after a restart: an overdue `for:` fires at start if its state still holds; an overdue
 * delay continues its actions; a time/cron trigger missed by at most 5 minutes runs once, older ones
 * are skipped. Timers of a rule whose definition changed are dropped.
 */
export interface RuleHostDeps {
  /** commands go out through it; its state cache seeds the rules' values */
  readonly hub: Hub;
  readonly bus: GatewayBus;
  readonly alerts: AlertSink;
  readonly registry: DeviceRegistry;
  readonly timers: TimerStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options: RuleHostOptions;
  readonly checker?: RuleChecker | undefined;
}

export class RuleHost {
  readonly name = 'rules';
  readonly #hub: Hub;
  readonly #bus: GatewayBus;
  readonly #alerts: AlertSink;
  readonly #registry: DeviceRegistry;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #options: RuleHostOptions;
  readonly #store: TimerStore;
  readonly #checker: RuleChecker;
  /** rule texts parsed and checked (on the worker) since start */
  checks = 0;
  readonly #scheduled = new Map<string, () => void>();
  readonly #traces = new Map<string, Trace[]>();
  #rules: CompiledRules | undefined;
  #scenes: RuleFile['scenes'] = {};
  #state: RuleState = initialState();
  #started = false;

  constructor(deps: RuleHostDeps) {
    this.#hub = deps.hub;
    this.#bus = deps.bus;
    this.#alerts = deps.alerts;
    this.#registry = deps.registry;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#options = deps.options;
    this.#store = deps.timers;
    this.#checker = deps.checker ?? new RuleChecker();
  }

  /**
   * Checks rule text against the devices Trellis knows, without activating it. The YAML is parsed and
   * checked on a worker thread (RuleChecker): this event loop never parses a rule file.
   */
  async check(text: string, file: string): Promise<CheckOutcome> {
    this.checks++;
    const catalog = [...this.#registry.all()].map((d) => [d.id, d.attributes] as const);
    const { timezone, tariffs, cascadeLimit } = this.#options;
    const a = await this.#checker.run({ op: 'check', text, file, catalog, timezone, tariffs, cascadeLimit });
    if (!a.ok) return { ok: false, problems: [...a.problems] };
    if (!('data' in a)) throw new Error('rule checker answered a check with an edit');
    return { ok: true, data: a.data as RuleFile, count: a.count, unlocking: [...a.unlocking] };
  }

  /** Sets one rule's `enabled:` in a rule text (comments and layout kept), on the worker too. */
  setEnabled(text: string, file: string, ruleId: string, enabled: boolean) {
    return this.edit(text, file, { kind: 'enable', ruleId, enabled });
  }

  /** One edit of a rule text (a rule or scene put or deleted, comments and layout kept), on the worker. */
  async edit(text: string, file: string, edit: RuleEdit): Promise<{ ok: true; text: string } | { ok: false; notFound: boolean; problems: RuleProblem[] }> {
    const a = await this.#checker.run({ op: 'edit', text, file, edit });
    if (!a.ok) return { ok: false, notFound: a.notFound === true, problems: [...a.problems] };
    if (!('text' in a)) throw new Error('rule checker answered an edit with a check');
    return { ok: true, text: a.text };
  }

  /** The active rules, in file order. */
  list(): Array<{ id: string; name: string | undefined; enabled: boolean; protected: boolean }> {
    return [...(this.#rules?.rules.values() ?? [])].map((r) => ({
      id: r.id,
      name: r.def.name,
      enabled: r.def.enabled && !this.#state.disabled.has(r.id),
      protected: r.def.protected,
    }));
  }

  /**
   * Compiles checked rules here (compiled rules hold functions, which cannot cross threads) and
   * activates them. The compile yields to the event loop every few milliseconds; the old rules run
   * until the new ones replace them. The check already passed; only a device that vanished meanwhile
   * can fail it now.
   */
  async activate(data: RuleFile, file: string): Promise<LoadOutcome> {
    const name = basename(file);
    const steps = compileSteps(data, {
      catalog: (id) => this.#registry.get(id),
      timezone: this.#options.timezone,
      tariffs: this.#options.tariffs,
      cascadeLimit: this.#options.cascadeLimit,
      where: () => name,
    });
    let compiled: CompileResult;
    for (;;) {
      const step = steps.next();
      if (step.done) {
        compiled = step.value;
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!compiled.ok) return compiled;
    // the compile's last step (the whole-file checks) and the activation are two turns, not one
    await new Promise((resolve) => setImmediate(resolve));
    this.#activate(compiled.rules);
    this.#scenes = data.scenes;
    return { ok: true, rules: data.rules.length };
  }

  /** Starts evaluating: restores persisted timers and feeds the `start` input. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    // The rules were activated before the drivers started; readings that came in since then are in the
    // hub's state: take them, so the first event after this compares with what the device last said.
    this.#seedFromHub(this.#state);
    this.#bus.on(this, 'event', (event) => this.#input({ kind: 'event', event }));
    const now = this.#clock.now();
    const restored: TimerRequest[] = [];
    for (const { timer, ruleHash } of this.#store.all()) {
      const rule = this.#rules?.rules.get(timer.ruleId);
      if (!rule || rule.hash !== ruleHash || (timer.kind === 'time' && now - timer.dueAt > TIME_TRIGGER_GRACE_MS && timer.dueAt <= now)) {
        this.#store.delete(timer.id);
        continue;
      }
      this.#state.timers.set(timer.id, timer);
      restored.push(timer);
    }
    // Overdue timers fire first (catch-up), so `start` cannot replace a just-missed time trigger.
    for (const t of restored) {
      if (t.dueAt <= now) {
        this.#store.delete(t.id);
        this.#input({ kind: 'timer', timer: t });
      } else this.#schedule(t);
    }
    this.#input({ kind: 'start' });
  }

  stop(): void {
    this.#started = false;
    this.#bus.off(this);
    for (const cancel of this.#scheduled.values()) cancel();
    this.#scheduled.clear(); // pending timers stay in SQLite for the next start
  }

  /** The last firings of a rule, newest last. */
  traces(ruleId: string): readonly Trace[] {
    return this.#traces.get(ruleId) ?? [];
  }

  /** An active rule as written (with the schema's defaults filled in), for the rule builder. */
  definition(ruleId: string): RuleDef | undefined {
    return this.#rules?.rules.get(ruleId)?.def;
  }

  /** The active rule file's scenes. */
  scenes(): RuleFile['scenes'] {
    return this.#scenes;
  }

  /** The tariff windows' names from the config (conditions may name them). */
  tariffNames(): string[] {
    return Object.keys(this.#options.tariffs);
  }

  get ruleCount(): number {
    return this.#rules?.rules.size ?? 0;
  }

  /** A new rule set replaces the old one; unchanged rules keep their pending timers and runs. */
  #activate(rules: CompiledRules): void {
    const old = this.#state;
    const previous = this.#rules;
    const unchanged = (id: string) => previous?.rules.get(id)?.hash !== undefined && previous.rules.get(id)?.hash === rules.rules.get(id)?.hash;
    const state = initialState();
    for (const [k, v] of old.values) state.values.set(k, v);
    for (const [k, v] of old.online) state.online.set(k, v);
    if (old.values.size === 0) this.#seedFromHub(state);
    this.#store.batch(() => {
      for (const [id, t] of old.timers) {
        if (unchanged(t.ruleId)) state.timers.set(id, t);
        else this.#cancel(id);
      }
    });
    for (const [id, run] of old.runs) if (unchanged(id)) state.runs.set(id, run);
    for (const id of old.disabled) if (unchanged(id)) state.disabled.add(id);
    state.nextRunId = old.nextRunId;
    this.#state = state;
    this.#rules = rules;
    if (this.#started) this.#input({ kind: 'reload' });
  }

  #seedFromHub(state: RuleState): void {
    for (const device of this.#registry.all()) {
      state.online.set(device.id, this.#hub.state.isOnline(device.id));
      for (const [attribute, entry] of this.#hub.state.attributes(device.id)) state.values.set(`${device.id}\u0000${attribute}`, entry.value as AttributeValue);
    }
  }

  #input(input: RuleInput): void {
    const rules = this.#rules;
    if (!rules) return;
    let out: Evaluation;
    try {
      out = evaluate(rules, this.#state, input, this.#clock.now());
    } catch (err) {
      this.#log.error({ err }, 'rules engine failed on an input');
      return;
    }
    if (out.cancelled.length > 0 || out.timers.length > 0) {
      this.#store.batch(() => {
        for (const id of out.cancelled) this.#cancel(id);
        for (const t of out.timers) {
          this.#store.put(t, rules.rules.get(t.ruleId)?.hash ?? '');
          this.#schedule(t);
        }
      });
    }
    for (const c of out.commands) {
      // The checker refused this at load time; a device can become a lock or a gate afterwards (a new
      // discovery config), so the rule that does not say allowUnlock is stopped here too, and told.
      const spec = this.#registry.get(c.deviceId)?.attributes[c.attribute];
      if (opensAccess(spec, c.value) && !rules.rules.get(c.ruleId)?.def.allowUnlock) {
        const message = `rule ${c.ruleId} did not ${c.value === 'unlock' ? 'unlock' : 'open'} ${c.deviceId}.${c.attribute}: that opens a way in, and the rule does not say allowUnlock: true`;
        this.#log.warn({ ruleId: c.ruleId, deviceId: c.deviceId }, message);
        this.#alert({ ruleId: c.ruleId, deviceId: c.deviceId, severity: 'warning', message, at: this.#clock.now() });
        continue;
      }
      this.#hub
        .command({ deviceId: c.deviceId, attribute: c.attribute, value: c.value })
        .catch((err: Error) => this.#log.warn({ ruleId: c.ruleId, deviceId: c.deviceId, err: err.message }, 'rule command failed'));
    }
    for (const a of out.alerts) this.#alert(a);
    for (const t of out.traces) this.#trace(t);
  }

  #schedule(t: TimerRequest): void {
    this.#scheduled.get(t.id)?.();
    const cancel = this.#clock.setTimer(t.dueAt - this.#clock.now(), () => {
      this.#scheduled.delete(t.id);
      this.#store.delete(t.id);
      this.#input({ kind: 'timer', timer: t });
    });
    this.#scheduled.set(t.id, cancel);
  }

  #cancel(id: string): void {
    this.#scheduled.get(id)?.();
    this.#scheduled.delete(id);
    this.#store.delete(id);
  }

  /** The protected rule that sets `deviceId.attribute`, if any: no remote party may fight it. */
  protectedWriter(deviceId: string, attribute: string): string | undefined {
    for (const rule of this.#rules?.rules.values() ?? []) {
      if (!rule.def.protected) continue;
      for (const a of rule.actions) {
        if ((a.kind === 'set' || a.kind === 'toggle') && a.device === deviceId && a.attribute === attribute) return rule.id;
      }
    }
    return undefined;
  }

  #alert(a: Alert): void {
    this.#alerts.raise({ source: 'rule', ...a });
  }

  #trace(t: Trace): void {
    let list = this.#traces.get(t.ruleId);
    if (!list) {
      list = [];
      this.#traces.set(t.ruleId, list);
    }
    list.push(t);
    if (list.length > this.#options.traceLimit) list.shift();
  }
}
