import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonLine, parseKvLine } from '../../drivers/serial/textLine.ts';
import type { Rejection } from '../../gateway/core/events.ts';
import { connectClient, startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * A device on the LAN naming an attribute `constructor` or `__proto__`: names every plain object
 * already answers to (the meter threw on `constructor`; `__proto__` vanished from the records keyed
 * on it). Each door that takes names from a device refuses them with a reason, and the device's
 * other attributes keep working.
 */
describe('attribute names every object already has', () => {
  const rejections: Rejection[] = [];
  let gw: TestGateway;
  let device: MqttClient;
  beforeAll(async () => {
    gw = await startTestGateway({});
    gw.running.bus.on(rejections, 'rejected', (r) => rejections.push(r));
    const password = await gw.running.credentials.create('plug-9');
    device = await connectClient(gw.url, { username: 'plug-9', password, clientId: 'plug-9' });
  });
  afterAll(async () => {
    device?.end(true);
    await gw?.stop();
  });

  it('refuses them in a native device state, names the field, and keeps the next state', async () => {
    for (const name of ['constructor', '__proto__']) {
      // written out by hand: JSON.stringify of an object literal would not carry __proto__ as a key
      await device.publishAsync('trellis/plug-9/state', `{"${name}": 1, "power": 3}`, { qos: 1 });
      await waitFor(() => rejections.some((r) => r.reason.startsWith(`state.${name}: is a reserved name`)), 3000, `${name} refused`);
    }
    await device.publishAsync('trellis/plug-9/state', '{"power": 4}', { qos: 1 });
    await waitFor(() => gw.running.registry.get('plug-9')?.attributes.power !== undefined, 3000, 'power registered');
    const attributes = gw.running.registry.get('plug-9')?.attributes ?? {};
    expect(Object.keys(attributes)).toEqual(['power']);
    expect(Object.hasOwn(attributes, 'constructor')).toBe(false);
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
  });

  /** The reasons of what the gateway refused after `publish`, once it refused something. */
  const refusedAfter = async (publish: () => Promise<unknown>, what: string) => {
    const before = rejections.length;
    await publish();
    await waitFor(() => rejections.length > before, 3000, what);
    return rejections
      .slice(before)
      .map((r) => r.reason)
      .join('\n');
  };

  it('refuses a native config that declares one', async () => {
    const config = JSON.stringify({ name: 'Plug', attributes: { constructor: { type: 'number' } } });
    expect(await refusedAfter(() => device.publishAsync('trellis/plug-9/config', config, { qos: 1 }), 'config refused')).toMatch(/constructor.*reserved name/);
  });

  it('refuses a Home Assistant discovery entity whose object id is one', async () => {
    const config = JSON.stringify({ state_topic: 'plug9/state', device: { identifiers: ['plug9'] } });
    expect(await refusedAfter(() => device.publishAsync('homeassistant/sensor/plug9/constructor/config', config, { qos: 1 }), 'discovery refused')).toMatch(
      /object_id: "constructor" is a reserved name/,
    );
    expect(gw.running.registry.get('plug9')).toBeUndefined();
  });
});

describe('the serial text line refuses them too', () => {
  it('in KEY=VALUE records and in JSON lines, and keeps an ordinary line', () => {
    expect(parseKvLine('CONSTRUCTOR=1 temp=3')).toBe("constructor: is a reserved name, not an attribute's");
    expect(parseJsonLine('{"temp": 3, "__proto__": 1}')).toBe("__proto__: is a reserved name, not an attribute's");
    expect(parseKvLine('TEMP=3 hum=40')).toEqual([
      ['temp', 3],
      ['hum', 40],
    ]);
  });
});
