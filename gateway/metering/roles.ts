import type { AttributeSpec } from '../../drivers/types.ts';

/**
 * What an attribute contributes to a usage bucket:
 * - `energy`: a cumulative energy counter (Wh, kWh, MWh) -> Wh used in the hour;
 * - `counter`: any other cumulative counter (cups brewed, litres) -> its increase;
 * - `on`: a running/power state -> seconds on and starts (off -> on);
 * - `door`: a door or window contact -> seconds open and openings;
 * - `temperature`: min / mean / max of the hour's samples.
 */
export type MeterRole = 'energy' | 'counter' | 'on' | 'door' | 'temperature';

export interface MeteredAttribute {
  readonly role: MeterRole;
  /** Wh per device unit, for `energy`. */
  readonly whPerUnit?: number;
  /** Counter modulus: where it wraps to 0 (`rolloverAt` in the config, else the attribute's max). */
  readonly rolloverAt?: number | undefined;
}

export interface RoleOverride {
  readonly role: MeterRole | 'none';
  readonly rolloverAt?: number | undefined;
}

const ENERGY_UNITS: Record<string, number> = { wh: 1, kwh: 1000, mwh: 1_000_000 };
const DOOR_CLASSES = new Set(['door', 'window', 'opening', 'garage_door']);
const ON_CLASSES = new Set(['running', 'power', 'plug', 'outlet', 'switch', 'heat', 'cold']);
const ON_NAMES = /^(power|state|relay|switch|on|compressor|heater|pump|running)(_\d+)?$/;

/** The role an attribute plays in metering, inferred from its spec and name unless the config says otherwise. */
export function meterRole(attribute: string, spec: AttributeSpec, override?: RoleOverride): MeteredAttribute | undefined {
  const unitFactor = ENERGY_UNITS[(spec.unit ?? '').toLowerCase()];
  const rolloverAt = override?.rolloverAt ?? spec.max;
  if (override) {
    if (override.role === 'none') return undefined;
    if (override.role === 'energy') return { role: 'energy', whPerUnit: unitFactor ?? 1, rolloverAt };
    if (override.role === 'counter') return { role: 'counter', rolloverAt };
    return { role: override.role };
  }
  if (spec.type === 'number') {
    const cumulative = spec.stateClass === 'total_increasing' || spec.stateClass === 'total';
    if (unitFactor !== undefined && (cumulative || spec.deviceClass === 'energy')) return { role: 'energy', whPerUnit: unitFactor, rolloverAt };
    if (cumulative) return { role: 'counter', rolloverAt };
    if (spec.deviceClass === 'temperature' && !spec.writable) return { role: 'temperature' };
    return undefined;
  }
  if (spec.type === 'boolean') {
    if (spec.deviceClass && DOOR_CLASSES.has(spec.deviceClass)) return { role: 'door' };
    if ((spec.deviceClass && ON_CLASSES.has(spec.deviceClass)) || ON_NAMES.test(attribute)) return { role: 'on' };
  }
  return undefined;
}
