import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet, type FleetMember } from '../../firmware-sim/fleet.ts';
import { existsSync, writeFileSync } from 'node:fs';
import type { RunningGateway } from '../gateway.ts';
import { DEMO_RULES } from './demoRules.ts';

/** The demo home and shop: simulated MQTT devices that connect to the gateway over loopback. */
export const DEMO_HOME: readonly FleetMember[] = [
  { kind: 'thermostat', node: 'home-thermostat', name: 'Living room thermostat' },
  { kind: 'plug', node: 'home-heatpump-plug', name: 'Heat pump plug' },
  { kind: 'door', node: 'home-front-door', name: 'Front door' },
  { kind: 'light', node: 'home-lamp', name: 'Reading lamp' },
];

export const DEMO_SHOP: readonly FleetMember[] = [
  { kind: 'coffee', node: 'shop-coffee-1', name: 'Espresso machine (counter)' },
  { kind: 'coffee', node: 'shop-coffee-2', name: 'Espresso machine (terrace)' },
  { kind: 'fridge', node: 'shop-fridge-drinks', name: 'Drinks fridge' },
  { kind: 'fridge', node: 'shop-fridge-dairy', name: 'Dairy fridge' },
  { kind: 'plug', node: 'shop-sign-plug', name: 'Window sign plug' },
  { kind: 'door', node: 'shop-back-door', name: 'Back door' },
  { kind: 'buzzer', node: 'shop-buzzer', name: 'Counter buzzer' },
];

export interface DemoOptions {
  /** Simulated time runs this many times faster than real time (default 12: a minute every 5 s). */
  readonly speed?: number;
  /** Simulated ms between reports (default one minute). */
  readonly reportMs?: number;
}

/**
 * Issues a fresh credential for each demo device (rotated at every start, so no password is fixed or
 * stored in clear) and connects the fleet to the gateway's broker.
 */
export async function startDemo(gateway: RunningGateway, rulesFile: string, options: DemoOptions = {}): Promise<Fleet> {
  const members: FleetMember[] = [];
  for (const m of [...DEMO_HOME, ...DEMO_SHOP]) members.push({ ...m, password: await gateway.credentials.rotate(m.node) });
  const { port } = gateway.mqttAddress;
  const fleet = new Fleet({
    url: `mqtt://127.0.0.1:${port}`,
    devices: members,
    clock: createClock(options.speed ?? 12),
    reportMs: options.reportMs ?? 60_000,
    seed: 42,
  });
  try {
    await fleet.start();
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  await writeSampleRules(gateway, rulesFile);
  return fleet;
}

/**
 * Once every demo device has announced itself (rules may name only known devices), writes the sample
 * rules, unless a rule file exists already; the rule-file watcher activates them.
 */
async function writeSampleRules(gateway: RunningGateway, rulesFile: string): Promise<void> {
  if (existsSync(rulesFile)) return;
  const needed = ['home-thermostat', 'zigbee2mqtt_home-lamp', 'shop-fridge-dairy', 'shop-fridge-drinks', 'shop-coffee-1', 'shop-buzzer'];
  const deadline = Date.now() + 10_000;
  while (needed.some((id) => !gateway.registry.get(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  writeFileSync(rulesFile, DEMO_RULES);
}
