import type { AttributeSpec, AttributeValue } from '../drivers/types.ts';

/** Device classes of covers that let people in: opening one is guarded like unlocking a lock. */
const ENTRANCES = new Set(['garage', 'gate', 'door']);

/**
 * Whether setting an attribute to `value` unlocks or opens a way in: a lock's `unlock` or `open`, a
 * garage door's, gate's or door cover's `open` or a position above 0. Every path that sends commands
 * (the phone, rules, providers) guards these (README: "Locks and openers").
 */
export function opensAccess(spec: AttributeSpec | undefined, value: AttributeValue | undefined): boolean {
  if (!spec) return false;
  if (spec.deviceClass === 'lock') return value === 'unlock' || value === 'open';
  if (!ENTRANCES.has(spec.deviceClass ?? '') || !spec.writable) return false;
  if (typeof value === 'number') return spec.unit === '%' && value > 0;
  return value === 'open';
}
