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
    expect(() => assertParserHook(renamed as never)).toThrow(expect.objectContaining({ code: 'TRELLIS_E_BROKER', message: expect.stringContaining('client._parser') }));
    expect(parserOf({ _parser: {} })).toBeUndefined();
    expect(parserOf(null)).toBeUndefined();
  });
});
