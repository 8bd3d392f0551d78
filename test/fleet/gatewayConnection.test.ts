import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayConnection, route, sendRouted } from '../../bench/gatewayConnection.ts';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { CloudSubscriber } from '../helpers/cloudSubscriber.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/** bench:fleet's simulated gateways send packets encoded ahead of time: mosquitto must take them as MQTT.js' would be taken. */
describe("bench:fleet's gateway connections (real mosquitto, TLS)", () => {
  const dirs = new TempDirs();
  let broker: CloudBroker;
  let ca: Buffer;
  let sub: CloudSubscriber;

  beforeAll(async () => {
    broker = new CloudBroker({
      dir: dirs.make('trellis-gwconn-'),
      users: { gateways: 'gw', backend: 'backend' },
      certificateClients: [],
      passwordPort: await freePort(),
      certificatePort: await freePort(),
    });
    await broker.start();
    ca = readFileSync(broker.certs.ca);
    sub = await CloudSubscriber.connect(broker.passwordUrl, 'trellis/v1/+/p/coolco/#', { protocolVersion: 5, username: 'backend', password: 'backend', ca });
  });

  afterAll(async () => {
    await sub.close();
    await broker.stop();
    dirs.cleanup();
  });

  it('delivers every routed record, in order per site, and counts the PUBACKs', async () => {
    const conns = [await GatewayConnection.open(broker, ca, 'gateways', 'gw', 'gw-a'), await GatewayConnection.open(broker, ca, 'gateways', 'gw', 'gw-b')];
    const wire = Array.from({ length: 300 }, (_, i) => ({
      topic: `trellis/v1/site-000${i % 3}/p/coolco/usage/d${i % 3}`,
      payload: JSON.stringify({ n: i, data: { bucketSeq: i + 1 }, text: 'x'.repeat(i) }),
    }));
    const routed = route(conns, wire);
    const sentAt = new Map<string, number>();
    sendRouted(routed, 0, 100, sentAt);
    sendRouted(routed, 100, 300, sentAt);
    await waitFor(() => sub.messages.length === 300 && conns.reduce((a, c) => a + c.acked, 0) === 300, 10_000);
    expect(sentAt.size).toBe(300);
    expect(sub.messages.map((m) => m.text).sort()).toEqual(wire.map((w) => w.payload).sort());
    for (const site of ['site-0000', 'site-0001', 'site-0002']) {
      const got = sub.messages.filter((m) => m.topic.includes(site)).map((m) => (m.json as { n: number }).n);
      expect(got).toEqual([...got].sort((a, b) => a - b));
    }
    for (const c of conns) await c.close();
    expect(() => conns[0]?.send([])).toThrow(/closed/);
  });

  it('refuses to put more than 65,535 publishes in flight on one connection (packet ids would repeat)', async () => {
    const c = await GatewayConnection.open(broker, ca, 'gateways', 'gw', 'gw-c');
    for (let i = 0; i < 65_535; i++) c.encode('trellis/v1/site-0009/p/coolco/usage/d1', '{}');
    expect(() => c.encode('trellis/v1/site-0009/p/coolco/usage/d1', '{}')).toThrow(/65535 publishes/);
    await c.close();
  });

  it('fails to open with a wrong password, naming the client', async () => {
    await expect(GatewayConnection.open(broker, ca, 'gateways', 'wrong', 'gw-d')).rejects.toThrow(/gw-d/);
  });
});
