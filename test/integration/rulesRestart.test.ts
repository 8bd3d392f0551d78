import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../gateway/store/credentials.ts';
import { openDb } from '../../gateway/store/db.ts';
import { freePort, spawnGateway, type GatewayProcess } from '../helpers/gatewayProcess.ts';
import { connectClient, waitFor } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/**
 * A `for:` pending when the gateway process is killed (SIGKILL) resumes after restart: the action
 * still happens, once, when the wait is over.
 */
describe('rule timers across a crash', () => {
  const dirs = new TempDirs();
  const clients: MqttClient[] = [];
  let gateway: GatewayProcess | undefined;
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await gateway?.stop('SIGKILL');
    dirs.cleanup();
  });

  it('fires a pending for: once after SIGKILL and restart', async () => {
    const dir = dirs.make();
    const port = await freePort();
    const config = join(dir, 'trellis.yaml');
    writeFileSync(config, `dataDir: ./data\nmqtt:\n  host: 127.0.0.1\n  port: ${port}\nrules:\n  file: ./rules.yaml\n`);
    const db = openDb(join(dir, 'data', 'trellis.db'), { synchronous: 'full' });
    const store = new CredentialStore(db);
    const pw = { door: await store.create('door1'), buzzer: await store.create('buzzer1') };
    db.close();

    gateway = await spawnGateway(config);
    const url = `mqtt://127.0.0.1:${port}`;
    const door = await connectClient(url, { username: 'door1', password: pw.door, clientId: 'door1', reconnectPeriod: 200 });
    const buzzer = await connectClient(url, { username: 'buzzer1', password: pw.buzzer, clientId: 'buzzer1', reconnectPeriod: 200 });
    clients.push(door, buzzer);
    const received: Array<{ at: number; body: string }> = [];
    buzzer.on('message', (_t, p) => received.push({ at: Date.now(), body: p.toString() }));
    await buzzer.subscribeAsync('trellis/buzzer1/set', { qos: 1 });
    await door.publishAsync('trellis/door1/config', JSON.stringify({ name: 'Back door', attributes: { open: { type: 'boolean' } } }), { qos: 1, retain: true });
    await buzzer.publishAsync('trellis/buzzer1/config', JSON.stringify({ name: 'Buzzer', attributes: { sound: { type: 'boolean', writable: true } } }), {
      qos: 1,
      retain: true,
    });
    await door.publishAsync('trellis/door1/state', JSON.stringify({ open: false }), { qos: 1 });

    writeFileSync(
      join(dir, 'rules.yaml'),
      'rules:\n  - id: door-held-open\n    triggers: [{device: door1, attribute: open, to: true, for: 4s}]\n    actions: [{set: {device: buzzer1, attribute: sound, value: true}}]\n',
    );
    await waitFor(() => gateway?.output().includes('"msg":"rules active"'), 5000, 'rules active');

    const openedAt = Date.now();
    await door.publishAsync('trellis/door1/state', JSON.stringify({ open: true }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 1000));
    await gateway.stop('SIGKILL');
    expect(received).toHaveLength(0);

    gateway = await spawnGateway(config);
    await waitFor(() => received.length > 0, 8000, 'the buzzer command after restart');
    await new Promise((r) => setTimeout(r, 3000)); // and no second one
    expect(received.map((m) => JSON.parse(m.body))).toEqual([{ sound: true }]);
    expect((received[0]?.at ?? 0) - openedAt).toBeGreaterThanOrEqual(3900); // it waited the full 4 s
  }, 60_000);
});
