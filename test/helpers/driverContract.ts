import { expect, it } from 'vitest';
import type { AttributeValue } from '../../drivers/types.ts';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { waitFor } from './testGateway.ts';

export interface ContractSubject {
  readonly gateway: () => RunningGateway;
  readonly deviceId: string;
  readonly protocol: 'mqtt' | 'serial' | 'ble';
  /** An attribute the device reports on its own. */
  readonly reported: string;
  /** A settable attribute and a value to set it to (different from its current one). */
  readonly writable: string;
  readonly value: AttributeValue;
  /** A read-only attribute. */
  readonly readOnly: string;
}

/**
 * The contract every driver passes, through the real gateway and hub: the device is described with
 * typed attributes, its reports arrive as readings and it is online, a command reaches it and the new
 * state is read back, and a command to a read-only attribute is refused before any wire traffic.
 */
export function driverContract(s: ContractSubject): void {
  it(`${s.protocol}: describes the device with typed attributes`, async () => {
    // devices may announce their attributes one message at a time (HA discovery: one per entity)
    await waitFor(
      () => {
        const a = s.gateway().registry.get(s.deviceId)?.attributes;
        return a?.[s.writable] && a[s.readOnly];
      },
      10_000,
      `${s.deviceId} described`,
    );
    const d = s.gateway().registry.get(s.deviceId);
    expect(d?.protocol).toBe(s.protocol);
    expect(d?.attributes[s.writable]?.writable).toBe(true);
    expect(d?.attributes[s.readOnly]?.writable).toBe(false);
  });

  it(`${s.protocol}: turns the device's reports into readings and marks it online`, async () => {
    await waitFor(() => s.gateway().hub.state.get(s.deviceId, s.reported) !== undefined, 10_000, `${s.deviceId}.${s.reported}`);
    await waitFor(() => s.gateway().hub.state.isOnline(s.deviceId), 10_000, `${s.deviceId} online`);
  });

  it(`${s.protocol}: sends a command the device obeys, and reads the new state back`, async () => {
    await s.gateway().hub.command({ deviceId: s.deviceId, attribute: s.writable, value: s.value });
    await waitFor(() => s.gateway().hub.state.get(s.deviceId, s.writable) === s.value, 5000, `${s.deviceId}.${s.writable} = ${String(s.value)}`);
  });

  it(`${s.protocol}: refuses a command to a read-only attribute`, async () => {
    await expect(s.gateway().hub.command({ deviceId: s.deviceId, attribute: s.readOnly, value: 1 })).rejects.toThrow(/read-only/);
  });
}
