import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { scaledClock } from '../../gateway/clock.ts';
import { connectClient, startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * Rules through the real broker, on a gateway clock running 60x (a minute per second): the
 * simulated fridge's door opens, two (simulated) minutes later the simulated buzzer receives its
 * command over MQTT. Then a broken edit of the rule file is refused and the old rules keep running.
 */
describe('rules end to end', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  const rulesFile = () => join(gw.dir, 'rules.yaml');
  const ALARM = `rules:
  - id: fridge-door-alarm
    protected: true
    triggers: [{device: shop-fridge, attribute: door, to: true, for: 2m}]
    actions:
      - {set: {device: shop-buzzer, attribute: sound, value: true}}
      - {notify: {message: "Fridge door open for 2 minutes", severity: critical}}
`;

  beforeAll(async () => {
    gw = await startTestGateway({}, undefined, scaledClock(60));
    // devices report only when told to (no random door openings)
    fleet = await startSimFleet(
      gw,
      [
        { kind: 'fridge', node: 'shop-fridge', name: 'Fridge' },
        { kind: 'buzzer', node: 'shop-buzzer', name: 'Buzzer' },
      ],
      { speed: 1, reportMs: 86_400_000 },
    );
    await waitFor(() => gw.running.registry.get('shop-buzzer') && gw.running.registry.get('shop-fridge'), 5000, 'devices');
  });
  afterAll(async () => {
    await fleet?.stop();
    await gw?.stop();
  });

  const fridge = () => fleet.get('shop-fridge')?.state as { doorOpen: boolean };
  const setDoor = (open: boolean) => {
    fridge().doorOpen = open;
    fleet.get('shop-fridge')?.report();
  };
  const buzzerCommands = () => (fleet.get('shop-buzzer')?.received ?? []).filter((m) => m.payload === 'ON').length;

  it('activates a rule file written while the gateway runs (hot reload)', async () => {
    writeFileSync(rulesFile(), ALARM);
    await waitFor(() => gw.running.rules.ruleCount === 1, 5000, 'rules active');
  });

  it('sounds the buzzer when the fridge door has been open for 2 minutes, not before', async () => {
    setDoor(false);
    await waitFor(() => gw.running.hub.state.get('shop-fridge', 'door') === false, 2000, 'door closed');
    const t0 = Date.now();
    setDoor(true);
    await waitFor(() => buzzerCommands() === 1, 6000, 'buzzer command');
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1900); // 2 simulated minutes at 60x
    await waitFor(() => gw.running.hub.state.get('shop-buzzer', 'sound') === true, 2000, 'buzzer state read back');
    const trace = gw.running.rules.traces('fridge-door-alarm').at(-1);
    expect(trace).toMatchObject({ outcome: 'ran', commands: ['shop-buzzer.sound = true'] });
    expect(trace?.trigger).toMatch(/shop-fridge\.door = true for 2m/);
    const alert = gw.running.db.prepare('SELECT severity, message FROM alerts ORDER BY id DESC LIMIT 1').get();
    expect(alert).toEqual({ severity: 'critical', message: 'Fridge door open for 2 minutes' });
  });

  it('does not sound it when the door closes in time', async () => {
    setDoor(false);
    await waitFor(() => gw.running.hub.state.get('shop-fridge', 'door') === false, 2000, 'door closed');
    const before = buzzerCommands();
    setDoor(true);
    await new Promise((r) => setTimeout(r, 800)); // 48 simulated seconds
    setDoor(false);
    await new Promise((r) => setTimeout(r, 2000));
    expect(buzzerCommands()).toBe(before);
  });

  it('activates a rule naming a device not seen yet as soon as that device announces itself', async () => {
    const text = `${ALARM}  - id: new-plug
    triggers: [{device: late-plug, attribute: power, above: 100}]
    actions: [{notify: {message: "late plug draws power", severity: info}}]
`;
    writeFileSync(rulesFile(), text);
    await waitFor(() => gw.running.ruleFile.lastProblems?.includes('unknown device "late-plug"'), 5000, 'refused for now');
    expect(gw.running.rules.ruleCount).toBe(1);
    const password = await gw.running.credentials.create('late-plug');
    const client = await connectClient(gw.url, { username: 'late-plug', password });
    await client.publishAsync('trellis/late-plug/config', JSON.stringify({ attributes: { power: { type: 'number', unit: 'W' } } }), { qos: 1, retain: true });
    await waitFor(() => gw.running.rules.ruleCount === 2, 5000, 'activated after the device appeared');
    expect(gw.running.ruleFile.lastProblems).toBeUndefined();
    await client.endAsync();
    writeFileSync(rulesFile(), ALARM);
    await waitFor(() => gw.running.rules.ruleCount === 1, 5000, 'back to the alarm only');
  });

  it('refuses an invalid edit with its line and column, and keeps the running rules', async () => {
    writeFileSync(
      rulesFile(),
      `${ALARM}  - id: broken\n    triggers: [{device: shop-fridge, attribute: door, to: "open"}]\n    actions: [{set: {device: shop-buzzer, attribute: volume, value: 3}}]\n`,
    );
    await waitFor(() => gw.running.ruleFile.lastProblems, 5000, 'the edit to be checked');
    expect(gw.running.ruleFile.lastProblems).toMatch(/rules\.yaml:9:\d+: shop-fridge\.door is a boolean, "to" is "open"/);
    expect(gw.running.ruleFile.lastProblems).toMatch(/rules\.yaml:10:\d+: device "shop-buzzer" has no attribute "volume"/);
    expect(gw.running.rules.ruleCount).toBe(1);
    const before = buzzerCommands();
    setDoor(true);
    await waitFor(() => buzzerCommands() === before + 1, 6000, 'the old rule still firing');
  });
});
