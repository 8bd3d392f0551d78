import { connect, type MqttClient } from 'mqtt';
import { fridge } from '../../firmware-sim/kinds/fridge.ts';

export interface FridgeFirmware {
  readonly client: MqttClient;
  /** opens or closes the door, and reports it */
  door(open: boolean): Promise<void>;
}

/**
 * A fridge's firmware for the fleet's end-to-end tests: the simulator's Home Assistant discovery for
 * a fridge, a door the test holds open or closes (the simulator's own door is random), a setpoint it
 * obeys, and a last will.
 */
export async function fridgeFirmware(url: string, password: string, node = 'shop-fridge'): Promise<FridgeFirmware> {
  const state = { temperature: 4.2, setpoint: 4, compressor: 'OFF', door: 'OFF' };
  const client = connect(url, {
    username: node,
    password,
    clientId: node,
    will: { topic: `${node}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  for (const m of fridge.announce(node, 'Shop fridge')) await client.publishAsync(m.topic, JSON.stringify(m.config), { retain: true, qos: 1 });
  await client.publishAsync(`${node}/status`, 'online', { retain: true, qos: 1 });
  const report = () => client.publishAsync(`${node}/state`, JSON.stringify(state), { qos: 1 });
  await client.subscribeAsync(`${node}/setpoint/set`);
  client.on('message', (_t, payload) => {
    state.setpoint = Number(payload.toString());
    void report();
  });
  await report();
  return {
    client,
    async door(open) {
      state.door = open ? 'ON' : 'OFF';
      await report();
    },
  };
}
