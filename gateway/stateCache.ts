import type { AttributeType, AttributeValue } from '../drivers/types.ts';
import type { StateView } from '../rules/types.ts';
import type { StoredState } from './store/lastValues.ts';

export interface AttributeState {
  readonly value: AttributeValue;
  readonly ts: number;
}

/** Last known value of every attribute and whether each device is online; the hot-path read model. */
export class StateCache implements StateView {
  readonly #values = new Map<string, Map<string, { value: AttributeValue; ts: number }>>();
  readonly #online = new Set<string>();

  get(deviceId: string, attribute: string): AttributeValue | undefined {
    return this.#values.get(deviceId)?.get(attribute)?.value;
  }

  attributes(deviceId: string): ReadonlyMap<string, AttributeState> {
    return this.#values.get(deviceId) ?? new Map();
  }

  isOnline(deviceId: string): boolean {
    return this.#online.has(deviceId);
  }

  set(deviceId: string, attribute: string, value: AttributeValue, ts: number): void {
    let device = this.#values.get(deviceId);
    if (!device) {
      device = new Map();
      this.#values.set(deviceId, device);
    }
    const entry = device.get(attribute);
    if (entry) {
      // in place: a new object per reading left the old one as garbage in V8's old space (it had
      // lived long enough to be promoted), which fed major GCs at thousands of readings a second
      entry.value = value;
      entry.ts = ts;
    } else device.set(attribute, { value, ts });
  }

  setOnline(deviceId: string, online: boolean): void {
    if (online) this.#online.add(deviceId);
    else this.#online.delete(deviceId);
  }

  /** Restores last values from the store (devices start offline until they speak). */
  load(rows: Iterable<StoredState>): void {
    for (const r of rows) this.set(r.deviceId, r.attribute, fromStored(r.type, r.value), r.ts);
  }
}

/** Booleans are stored as 0/1; everything else as itself. */
export function fromStored(type: AttributeType, value: number | string): AttributeValue {
  if (type === 'boolean') return value === 1 || value === '1';
  return value;
}
