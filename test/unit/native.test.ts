import { describe, expect, it } from 'vitest';
import { parseNativeConfig, parseNativeState, parseNativeTopic } from '../../drivers/mqtt/native.ts';

describe('native trellis/<id>/... convention', () => {
  it('parses its topics and nothing else', () => {
    expect(parseNativeTopic('trellis/boiler-1/state')).toEqual({ deviceId: 'boiler-1', channel: 'state' });
    expect(parseNativeTopic('trellis/boiler-1/set')).toEqual({ deviceId: 'boiler-1', channel: 'set' });
    expect(parseNativeTopic('trellis/Boiler/state')).toBeUndefined();
    expect(parseNativeTopic('trellis/boiler/state/extra')).toBeUndefined();
    expect(parseNativeTopic('trellis/boiler/other')).toBeUndefined();
  });

  it('accepts a state object of numbers, booleans and strings', () => {
    expect(parseNativeState({ temperature: 21.5, heating: true, mode: 'eco' })).toEqual({
      ok: true,
      values: [
        ['temperature', 21.5],
        ['heating', true],
        ['mode', 'eco'],
      ],
    });
  });

  it('rejects other shapes, naming the field', () => {
    expect(parseNativeState([1])).toEqual({ ok: false, error: 'state: expected a JSON object of attributes' });
    expect(parseNativeState({ t: { nested: 1 } })).toEqual({ ok: false, error: 'state.t: expected a number, boolean or string, got {"nested":1}' });
    expect(parseNativeState({ 'Bad Name': 1 })).toMatchObject({ ok: false, error: expect.stringContaining('state.Bad Name') });
    expect(parseNativeState({ t: null })).toMatchObject({ ok: false });
  });

  it('validates configs strictly', () => {
    expect(parseNativeConfig({ name: 'Boiler', attributes: { setpoint: { type: 'number', writable: true, min: 30, max: 80 } } })).toMatchObject({ ok: true });
    expect(parseNativeConfig({ attributes: { setpoint: { type: 'float' } } })).toMatchObject({
      ok: false,
      error: expect.stringContaining('attributes.setpoint.type'),
    });
    expect(parseNativeConfig({ colour: 'red' })).toMatchObject({ ok: false });
  });
});
