import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseFile, openDb } from '../../gateway/store/db.ts';
import { sqliteRetainedConfigs } from '../../gateway/store/retainedConfigs.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * Rules are checked before the drivers start; devices the MQTT driver registers from retained
 * configs as it starts must still activate rules that name them, with no device connecting.
 */
describe('rules at start', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('a rule naming devices the MQTT driver registers from retained configs as it starts becomes active', async () => {
    const gw = await startTestGateway({}, dirs);
    await gw.gateway.stop();
    // as if a device had announced itself (a retained config) and the gateway never registered it
    const db = openDb(databaseFile(gw.dir), { synchronous: 'normal' });
    sqliteRetainedConfigs(db).save(
      'trellis/boiler/config',
      'boiler',
      JSON.stringify({ name: 'Boiler', attributes: { temperature: { type: 'number' }, pump: { type: 'boolean', writable: true } } }),
    );
    db.close();
    writeFileSync(
      join(gw.dir, 'rules.yaml'),
      'rules:\n  - id: pump\n    triggers: [{device: boiler, attribute: temperature, above: 70}]\n    actions: [{set: {device: boiler, attribute: pump, value: true}}]\n',
    );
    const running = await gw.gateway.start();
    try {
      expect(running.registry.get('boiler')).toBeDefined();
      await waitFor(() => running.rules.ruleCount === 1, 5000, 'the rule to become active');
      expect(running.ruleFile.lastProblems).toBeUndefined();
    } finally {
      await gw.gateway.stop();
    }
  });
});

describe('rules and the readings of the start-up gap', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('a reading that came while the rules were not listening still counts as the previous value', async () => {
    const gw = await startTestGateway({}, dirs);
    try {
      writeFileSync(
        join(gw.dir, 'rules.yaml'),
        'rules:\n  - id: alarm\n    triggers: [{device: tank, attribute: alarm, to: true}]\n    actions: [{notify: {message: "tank alarm"}}]\n',
      );
      const password = await gw.running.credentials.create('tank');
      const { connectClient } = await import('../helpers/testGateway.ts');
      const device = await connectClient(gw.url, { username: 'tank', password, clientId: 'tank' });
      const say = (alarm: boolean) => device.publishAsync('trellis/tank/state', JSON.stringify({ alarm }), { qos: 1 });
      await say(false);
      await waitFor(() => gw.running.rules.ruleCount === 1, 5000, 'the rule');
      const alerts = () => (gw.running.db.prepare("SELECT count(*) AS n FROM alerts WHERE rule_id = 'alarm'").get() as { n: number }).n;
      await say(true);
      await waitFor(() => alerts() === 1, 3000, 'the first alarm');
      // as between activating the rules and starting them at a gateway's start: nobody listens
      gw.running.rules.stop();
      await say(false);
      await waitFor(() => gw.running.hub.state.get('tank', 'alarm') === false, 3000, 'the reading stored');
      gw.running.rules.start();
      await say(true);
      await waitFor(() => alerts() === 2, 3000, 'the second alarm: false -> true again');
      device.end(true);
    } finally {
      await gw.gateway.stop();
    }
  });
});
