import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { clockFromTodayAt, startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The rule builder's API against a gateway with simulated devices: a rule from pickers (JSON) is
 * checked and saved into the hand-written YAML file with its comments kept, shown in words; bad rules
 * are refused naming the field or the file line; scenes are captured from the devices' current state,
 * run (one that unlocks only with a confirmation), and a scene a rule still uses cannot be deleted.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let api: ReturnType<typeof lanClient>;
let owner: string;
let rulesFile: string;
const HAND = `# written by hand in 2025: keep me
rules:
  # the heating for the morning
  - id: morning-heat
    triggers: [{at: "06:30", weekdays: [mon, tue, wed, thu, fri]}]
    actions: [{set: {device: sim_valve-1, attribute: climate_target_temperature, value: 21}}]
`;

beforeAll(async () => {
  const dir = dirs.make('trellis-builder-');
  rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, HAND);
  // the rule under test only acts between 16:00 and 23:30: the gateway's clock starts at 18:00 UTC today, whenever the suite runs
  gw = await startTestGateway({ rules: { file: rulesFile }, timezone: 'UTC' }, dirs, clockFromTodayAt(18));
  fleet = await startSimFleet(gw, [
    { kind: 'radiator-valve', node: 'valve-1', name: 'Living room radiator' },
    { kind: 'lock', node: 'lock-1', name: 'Back door' },
    { kind: 'blind', node: 'blind-1', name: 'Kitchen blind' },
    { kind: 'remote', node: 'remote-1', name: 'Hall remote' },
  ]);
  await waitFor(
    () =>
      gw.running.rules.ruleCount === 1 &&
      gw.running.hub.state.attributes('sim_lock-1').get('lock')?.value === 'locked' &&
      gw.running.hub.state.attributes('sim_blind-1').get('blind')?.value,
    15_000,
    'devices and the hand-written rule',
  );
  api = lanClient(gw.lanUrl);
  owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive', password: 'correct horse' })).body.token;
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

const sim = (node: string) => fleet.get(node) as NonNullable<ReturnType<Fleet['get']>>;
const DOUBLE_PRESS = {
  id: 'evening-press',
  name: 'Evening on a double press',
  triggers: [{ device: 'sim_remote-1', event: 'button', button: 'double' }],
  conditions: [{ time: { after: '16:00', before: '23:30' } }],
  actions: [
    { set: { device: 'sim_valve-1', attribute: 'climate_target_temperature', value: 22 } },
    { set: { device: 'sim_blind-1', attribute: 'blind', value: 'close' } },
  ],
};
const put = (id: string, rule: unknown, dryRun?: boolean) => api.put(`/api/rules/items/${id}`, dryRun === undefined ? { rule } : { rule, dryRun }, owner);

describe('the rule builder', () => {
  it('refuses a rule with a missing or wrong field, naming it, and one the checker refuses, with the line', async () => {
    const missing = await put('evening-press', { ...DOUBLE_PRESS, actions: [] });
    expect(missing.status).toBe(400);
    expect(missing.body.problems).toContainEqual({ where: 'rule.actions', message: expect.stringMatching(/>=1|at least 1/i) });
    const badTime = await put('evening-press', { ...DOUBLE_PRESS, triggers: [{ at: '25:99' }] });
    expect(badTime.body.problems.map((p: { where: string }) => p.where)).toContain('rule.triggers.0.at');
    const unknown = await put('evening-press', { ...DOUBLE_PRESS, actions: [{ set: { device: 'sim_nothing', attribute: 'power', value: true } }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.problems[0]).toMatchObject({ where: expect.stringMatching(/^rules\.yaml:\d+:\d+$/), message: expect.stringContaining('sim_nothing') });
    const tooWarm = await put('evening-press', {
      ...DOUBLE_PRESS,
      actions: [{ set: { device: 'sim_valve-1', attribute: 'climate_target_temperature', value: 45 } }],
    });
    expect(tooWarm.body.problems[0].message).toMatch(/30/);
    expect(readFileSync(rulesFile, 'utf8')).toBe(HAND);
  });

  it('checks without saving, then saves into the hand-written file with its comments kept, and says it in words', async () => {
    const dry = await put('evening-press', DOUBLE_PRESS, true);
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({
      ok: true,
      saved: false,
      unlocks: false,
      words:
        'When Hall remote button double is pressed, if between 16:00 and 23:30: set Living room radiator target temperature to 22, then set Kitchen blind blind to close',
    });
    expect(readFileSync(rulesFile, 'utf8')).toBe(HAND);
    const saved = await put('evening-press', DOUBLE_PRESS);
    expect(saved.body.saved).toBe(true);
    const text = readFileSync(rulesFile, 'utf8');
    expect(text.startsWith(HAND)).toBe(true);
    await waitFor(() => gw.running.rules.ruleCount === 2, 5_000, 'two rules active');
    const listed = (await api.get('/api/rules', owner)).body.rules as Array<{ id: string; words: string }>;
    expect(listed.map((r) => [r.id, r.words])).toEqual([
      ['morning-heat', 'At 06:30 on weekdays: set Living room radiator target temperature to 21'],
      ['evening-press', expect.stringMatching(/^When Hall remote button double is pressed/)],
    ]);
    const one = await api.get('/api/rules/items/evening-press', owner);
    expect(one.body.rule).toMatchObject({ id: 'evening-press', name: 'Evening on a double press', triggers: DOUBLE_PRESS.triggers });
    // and it runs
    await sim('remote-1').act('double');
    await waitFor(() => sim('blind-1').received.some((r) => r.payload === 'CLOSE'), 10_000, 'the blind closed by the new rule');
  });

  it('captures a scene from what the devices are set to now, and runs it', async () => {
    const captured = await api.post('/api/scenes/cosy/capture', { devices: ['sim_valve-1', 'sim_blind-1'] }, owner);
    expect(captured.status).toBe(200);
    const steps = captured.body.steps as Array<{ device: string; attribute: string; value: unknown }>;
    expect(steps).toContainEqual({ device: 'sim_valve-1', attribute: 'climate_target_temperature', value: 22 });
    expect(steps.map((s) => s.attribute)).not.toContain('calibrate'); // a button is no setting
    expect(steps.map((s) => s.attribute)).not.toContain('climate_current_temperature'); // nor is a reading
    expect((await api.get('/api/scenes', owner)).body.scenes.cosy).toEqual(steps);
    await api.post('/api/devices/sim_valve-1/commands', { attribute: 'climate_target_temperature', value: 18 }, owner);
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === 18, 10_000, 'the valve at 18');
    const ran = await api.post('/api/scenes/cosy/run', {}, owner);
    expect(ran.body).toMatchObject({ ok: true, failed: [] });
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === 22, 10_000, 'the scene set 22 again');
  });

  it('runs a scene that unlocks only with the confirmation, and audits it', async () => {
    expect((await api.put('/api/scenes/let-in', { steps: [{ device: 'sim_lock-1', attribute: 'lock', value: 'unlock' }] }, owner)).status).toBe(200);
    const unconfirmed = await api.post('/api/scenes/let-in/run', {}, owner);
    expect(unconfirmed.status).toBe(428);
    expect((sim('lock-1').state as { locked: boolean }).locked).toBe(true);
    expect((await api.post('/api/scenes/let-in/run', { confirm: true }, owner)).status).toBe(200);
    await waitFor(() => (sim('lock-1').state as { locked: boolean }).locked === false, 10_000, 'unlocked by the scene');
    const audit = gw.running.db.prepare("SELECT action FROM audit_log WHERE action LIKE 'lan.unlock%' ORDER BY id").all();
    expect(audit).toEqual([{ action: 'lan.unlock.unconfirmed' }, { action: 'lan.unlock' }]);
    // a rule that runs this scene must say allowUnlock
    const sneaky = await put('let-in-at-night', { id: 'let-in-at-night', triggers: [{ at: '03:00' }], actions: [{ scene: 'let-in' }] });
    expect(sneaky.body.problems[0].message).toMatch(/allowUnlock: true/);
  });

  it('refuses to delete a scene a rule runs, deletes a rule, and keeps the rest of the file', async () => {
    await put('cosy-evening', { id: 'cosy-evening', triggers: [{ at: '19:00' }], actions: [{ scene: 'cosy' }] });
    const inUse = await api.del('/api/scenes/cosy', owner);
    expect(inUse.status).toBe(400);
    expect((await api.del('/api/rules/items/cosy-evening', owner)).status).toBe(200);
    expect((await api.del('/api/scenes/cosy', owner)).status).toBe(200);
    expect((await api.del('/api/rules/items/cosy-evening', owner)).status).toBe(404);
    const text = readFileSync(rulesFile, 'utf8');
    expect(text).toContain('# written by hand in 2025: keep me');
    expect(text).toContain('# the heating for the morning');
    expect(text).not.toContain('cosy');
  });
});
