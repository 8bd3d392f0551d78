import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { assertParserHook, parserOf } from '../../drivers/mqtt/parserHook.ts';

describe('the malformed-packet guard fails closed', () => {
  it("finds the installed aedes' client parser", async () => {
    const aedes = await Aedes.createBroker();
    try {
      expect(() => assertParserHook(aedes)).not.toThrow();
    } finally {
      await new Promise<void>((r) => aedes.close(() => r()));
    }
  });

  it('refuses to start the broker when aedes no longer exposes it (a renamed private field)', () => {
    const renamed = { handle: () => ({ parser: { prependListener: () => undefined } }) };
    expect(() => assertParserHook(renamed as never)).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_BROKER', message: expect.stringContaining('client._parser') }),
    );
    expect(parserOf({ _parser: {} })).toBeUndefined();
    expect(parserOf(null)).toBeUndefined();
  });
});

describe("node-ble's private Bluetooth class is checked, not assumed", () => {
  it('loads the installed one', async () => {
    const { bluetoothClass } = await import('../../drivers/ble/session.ts');
    expect(typeof bluetoothClass()).toBe('function');
  });

  it('a moved or changed file is a clear TRELLIS_E_INTERNALS error', async () => {
    const { bluetoothClass } = await import('../../drivers/ble/session.ts');
    const missing = () => {
      throw new Error("Cannot find module 'node-ble/src/Bluetooth.js'");
    };
    expect(() => bluetoothClass(missing)).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_INTERNALS', message: expect.stringContaining('src/Bluetooth.js') }),
    );
    expect(() => bluetoothClass(() => class {})).toThrow(
      expect.objectContaining({ code: 'TRELLIS_E_INTERNALS', message: expect.stringContaining('defaultAdapter') }),
    );
  });
});
