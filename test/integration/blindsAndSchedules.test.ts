import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { scaledClock } from '../../gateway/clock.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * A blind (a cover announced with abbreviated keys and `~`, as ESPHome and Tasmota do) and a radiator
 * valve through the real broker, on a gateway clock running 60x: the blind's open/stop/close,
 * position and tilt from the phone API land on its own command topics and its motor's reports come
 * back; a rule with a time trigger sets the valve's target and closes the blind at that minute.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let api: ReturnType<typeof lanClient>;
let owner: string;
const clock = scaledClock(60);

beforeAll(async () => {
  gw = await startTestGateway({ timezone: 'UTC' }, dirs, clock);
  fleet = await startSimFleet(
    gw,
    [
      { kind: 'blind', node: 'blind-1', name: 'Shop window blind' },
      { kind: 'radiator-valve', node: 'valve-1', name: 'Shop radiator' },
    ],
    { speed: 60, reportMs: 10_000 },
  );
  await waitFor(() => gw.running.registry.get('sim_blind-1')?.attributes.blind && gw.running.registry.get('sim_valve-1'), 10_000, 'the devices');
  api = lanClient(gw.lanUrl);
  owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive', password: 'correct horse' })).body.token;
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

const sim = (node: string) => fleet.get(node) as NonNullable<ReturnType<Fleet['get']>>;
const value = (deviceId: string, attribute: string) => gw.running.hub.state.attributes(deviceId).get(attribute)?.value;
const command = (attribute: string, v: unknown) => api.post('/api/devices/sim_blind-1/commands', { attribute, value: v }, owner);

describe('a blind and a schedule through the broker', () => {
  it('discovers the blind from abbreviated keys: its state, moves, position and tilt', () => {
    const blind = gw.running.registry.get('sim_blind-1');
    expect(blind?.name).toBe('Shop window blind');
    expect(blind?.attributes.blind).toMatchObject({ type: 'string', deviceClass: 'blind', commands: ['open', 'close', 'stop'], writable: true, name: 'Blind' });
    expect(blind?.attributes.blind_position).toMatchObject({ type: 'number', unit: '%', min: 0, max: 100, writable: true });
    expect(blind?.attributes.blind_tilt).toMatchObject({ type: 'number', unit: '%', writable: true });
    expect(blind?.attributes.calibrate).toMatchObject({ type: 'boolean', momentary: true, writable: true, name: 'Calibrate' });
  });

  it('moves to a position, opens, stops and tilts, each on its own topic, and reports the motor', async () => {
    expect((await command('blind_position', 40)).status).toBe(202);
    expect(sim('blind-1').received.at(-1)).toEqual({ topic: 'blind-1/set/position', payload: '40' });
    await waitFor(() => value('sim_blind-1', 'blind_position') === 40 && value('sim_blind-1', 'blind') === 'stopped', 10_000, 'at 40 %');
    expect((await command('blind', 'open')).status).toBe(202);
    expect(sim('blind-1').received.at(-1)).toEqual({ topic: 'blind-1/set', payload: 'OPEN' });
    await waitFor(() => value('sim_blind-1', 'blind') === 'opening', 5_000, 'opening');
    await waitFor(() => value('sim_blind-1', 'blind') === 'open' && value('sim_blind-1', 'blind_position') === 100, 10_000, 'open');
    expect((await command('blind_tilt', 20)).status).toBe(202);
    await waitFor(() => value('sim_blind-1', 'blind_tilt') === 20, 10_000, 'tilted');
    expect((await command('blind', 'sideways')).body.message).toMatch(/open, close, stop/);
    expect((await command('blind_position', 140)).status).toBe(400);
  });

  it('a rule with a time trigger sets the valve target, closes the blind and presses its button at that minute', async () => {
    // the next whole minute at least 90 simulated seconds away (1.5 s real)
    const due = Math.ceil((clock.now() + 90_000) / 60_000) * 60_000;
    const hhmm = new Date(due).toISOString().slice(11, 16);
    const rules = `rules:
  - id: closing-time
    triggers: [{at: "${hhmm}"}]
    actions:
      - set: {device: sim_valve-1, attribute: climate_target_temperature, value: 16.5}
      - set: {device: sim_blind-1, attribute: blind, value: close}
      - set: {device: sim_blind-1, attribute: calibrate, value: true}
`;
    const saved = await api.put('/api/rules', { text: rules }, owner);
    expect(saved.status).toBe(200);
    await waitFor(() => gw.running.rules.ruleCount === 1, 5_000, 'the rule active');
    expect(sim('valve-1').received.map((r) => r.payload)).not.toContain('16.5');
    await waitFor(() => value('sim_valve-1', 'climate_target_temperature') === 16.5, 15_000, 'the valve at 16.5 from the rule');
    expect(clock.now()).toBeGreaterThanOrEqual(due);
    expect(sim('valve-1').received).toContainEqual({ topic: 'valve-1/set/occupied_heating_setpoint', payload: '16.5' });
    await waitFor(() => sim('blind-1').received.some((r) => r.topic === 'blind-1/set/calibrate'), 5_000, 'the button pressed');
    expect(sim('blind-1').received.slice(-2)).toEqual([
      { topic: 'blind-1/set', payload: 'CLOSE' },
      { topic: 'blind-1/set/calibrate', payload: 'PRESS' },
    ]);
    expect((sim('blind-1').state as { calibrations: number }).calibrations).toBe(1);
    await waitFor(() => value('sim_blind-1', 'blind') === 'closed', 10_000, 'the blind closed');
  });
});
