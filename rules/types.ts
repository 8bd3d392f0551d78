import type { Command, DeviceEvent, AttributeValue } from '../drivers/types.ts';

/**
 * The boundary of the rules engine (the engine itself arrives with the rules issue). It is pure:
 * `evaluate(state, event, now)` returns what to do; the gateway performs commands and schedules,
 * persists and fires timers. No clock, timers, I/O or logging inside `rules/`.
 */

/** Read-only view of the current state the hub keeps. */
export interface StateView {
  get(deviceId: string, attribute: string): AttributeValue | undefined;
  isOnline(deviceId: string): boolean;
}

/** A timer the host must schedule (and persist) and later feed back as an event. */
export interface TimerRequest {
  readonly id: string;
  readonly ruleId: string;
  readonly dueAt: number;
}

export interface Evaluation {
  readonly commands: readonly Command[];
  readonly timers: readonly TimerRequest[];
  readonly cancelTimers: readonly string[];
}

export type Evaluate = (state: StateView, event: DeviceEvent, now: number) => Evaluation;
