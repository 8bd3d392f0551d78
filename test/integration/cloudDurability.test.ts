import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { Outbox, type Priority } from '../../gateway/store/outbox.ts';
import { topics } from '../../protocol/index.ts';
import { openDb } from '../../gateway/store/db.ts';
import { CloudSubscriber, deliveryReport } from '../helpers/cloudSubscriber.ts';
import { freePort, spawnGateway, type GatewayProcess } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

const RECORDS = 20_000;

/**
 * The gateway runs as its own process with 20,000 records queued (from an outage), drains them to a
 * real mosquitto over TLS, and is killed with SIGKILL twice in the middle of the drain. The broker
 * publishes its last will; after each restart it carries on from the oldest unacknowledged record:
 * the subscriber ends with every record, no reordering within a priority, resends only as exact copies.
 */
describe('outbox drain under SIGKILL', () => {
  const dirs = new TempDirs();
  let broker: CloudBroker;
  let sub: CloudSubscriber;
  let gateway: GatewayProcess | undefined;
  let configFile: string;
  let dataDir: string;

  beforeAll(async () => {
    const dir = dirs.make('trellis-cloud-');
    broker = new CloudBroker({
      dir,
      users: { 'gw-k': 'k-secret', backend: 'backend-secret' },
      certificateClients: [],
      passwordPort: await freePort(),
      certificatePort: await freePort(),
    });
    await broker.start();
    sub = await CloudSubscriber.connect(broker.passwordUrl, 'trellis/v1/gw-k/#', {
      protocolVersion: 5,
      username: 'backend',
      password: 'backend-secret',
      ca: readFileSync(broker.certs.ca),
    });
    dataDir = join(dir, 'data');
    writeFileSync(join(dir, 'pw'), 'k-secret');
    configFile = join(dir, 'trellis.yaml');
    const port = await freePort();
    writeFileSync(
      configFile,
      [
        'gatewayId: gw-k',
        `dataDir: ${dataDir}`,
        `mqtt: {host: 127.0.0.1, port: ${port}}`,
        `lan: {host: 127.0.0.1, port: ${await freePort()}}`,
        'cloud:',
        `  url: ${broker.passwordUrl}`,
        '  username: gw-k',
        `  passwordFile: ${join(dir, 'pw')}`,
        `  ca: ${broker.certs.ca}`,
        '  backoffMinMs: 100',
        '  backoffMaxMs: 1000',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await sub?.close();
    await broker?.stop();
    dirs.cleanup();
  });

  it(`delivers all ${RECORDS} queued records across two SIGKILLs mid-drain`, async () => {
    const queued: number[] = [];
    {
      const db = openDb(join(dataDir, 'trellis.db'), { synchronous: 'full' });
      const outbox = new Outbox(db, { gatewayId: 'gw-k', maxBytes: 1e9, now: Date.now });
      const t = topics('gw-k');
      const kinds: Array<[Priority, string, string]> = [
        ['usage', t.usage('backend', 'meter-1'), 'usage'],
        ['maintenance', t.maintenance('backend', 'fridge-1'), 'maintenance'],
        ['telemetry', t.health('backend'), 'health'],
        ['alarm', t.alert('backend'), 'alert'],
      ];
      db.transaction(() => {
        for (let i = 0; i < RECORDS; i++) {
          const [priority, topic, type] = kinds[i % 7 === 0 ? 3 : i % 3] as [Priority, string, string];
          queued.push(outbox.enqueue(priority, topic, type, { n: i, pad: 'x'.repeat(100) }));
        }
      })();
      db.close();
    }
    for (const killAt of [RECORDS * 0.2, RECORDS * 0.6]) {
      gateway = await spawnGateway(configFile);
      await waitFor(() => sub.messages.length >= killAt, 60_000, `${killAt} records`);
      await gateway.stop('SIGKILL');
      await waitFor(() => lastStatus(sub) === 'offline', 10_000, 'last will');
    }
    gateway = await spawnGateway(configFile);
    await waitFor(() => deliveryReport(sub.messages, queued).missing.length === 0, 60_000, 'every record');
    const report = deliveryReport(sub.messages, queued);
    expect(report.missing).toEqual([]);
    expect(report.changedResends).toEqual([]);
    expect(report.inversions).toEqual([]);
    await gateway.stop('SIGTERM');
    gateway = undefined;
    const db = openDb(join(dataDir, 'trellis.db'), { synchronous: 'full' });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM outbox').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    expect(lastStatus(sub)).toBe('offline'); // the clean stop says so too
  }, 180_000);
});

function lastStatus(sub: CloudSubscriber): unknown {
  return sub.messages.filter((m) => m.topic === 'trellis/v1/gw-k/status').at(-1)?.json.state;
}
