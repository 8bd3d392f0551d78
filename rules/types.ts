import type { AttributeValue } from '../drivers/types.ts';

/** Read-only view of the current state the hub keeps (the gateway seeds the engine from it). */
export interface StateView {
  get(deviceId: string, attribute: string): AttributeValue | undefined;
  isOnline(deviceId: string): boolean;
}

export type { Alert, Evaluation, RuleCommand, RuleInput, RuleState, TimerRequest, Trace } from './engine.ts';
