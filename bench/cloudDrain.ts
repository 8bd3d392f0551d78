import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { CloudBroker } from '../firmware-sim/cloud/cloudBroker.ts';
import { CloudLink } from '../gateway/cloud/link.ts';
import { Outbox } from '../gateway/store/outbox.ts';
import { openDb } from '../gateway/store/db.ts';
import { freePort } from '../test/helpers/gatewayProcess.ts';

const WINDOW = 100;

/** A usage-bucket-sized record (~450 bytes of JSON). */
const data = (i: number) => ({
  deviceId: `dev-${i % 50}`,
  start: 1_700_000_000_000 + i * 3_600_000,
  end: 1_700_000_000_000 + (i + 1) * 3_600_000,
  localStart: '2023-11-14T22:00+00:00',
  metrics: {
    energy: { role: 'energy', unit: 'Wh', delta: 123.456, resets: 0, rollovers: 0, samples: 360 },
    compressor: { role: 'on', seconds: 1800, starts: 6, samples: 120 },
  },
  gaps: [],
  offlineSeconds: 0,
  bucketSeq: i + 1,
});

/**
 * Outbox drain after an outage: `records` queued in SQLite (fsynced commits, as on a Pi) drained by
 * the cloud link to Debian mosquitto over TLS + password, deleting each on its PUBACK; next to the
 * baseline of a bare MQTT.js client publishing the same payloads with the same window over the same
 * TLS listener (no database).
 */
export async function outboxDrain(records: number): Promise<{ perSecond: number; rawPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-cloud-'));
  const broker = new CloudBroker({
    dir,
    users: { gw: 'gw-secret' },
    certificateClients: [],
    passwordPort: await freePort(),
    certificatePort: await freePort(),
  });
  await broker.start();
  const db = openDb(join(dir, 'trellis.db'), { synchronous: 'full' });
  try {
    const outbox = new Outbox(db, { gatewayId: 'gw', maxBytes: 1e10, now: Date.now });
    db.transaction(() => {
      for (let i = 0; i < records; i++) outbox.enqueue('usage', `trellis/v1/gw/usage/dev-${i % 50}`, 'usage', data(i));
    })();
    const payloads = outbox.next([0, 0, 0, 0], records).map((r) => ({ topic: r.topic, payload: r.payload }));

    const rawPerSecond = await rawPublish(broker, payloads);

    const link = new CloudLink(
      {
        url: broker.passwordUrl,
        gatewayId: 'gw',
        clientId: 'gw',
        username: 'gw',
        password: 'gw-secret',
        ca: broker.certs.ca,
        protocol: 5,
        keepaliveS: 60,
        window: WINDOW,
        backoff: { minMs: 100, maxMs: 1000 },
        version: 'bench',
        now: Date.now,
      },
      outbox,
      pino({ level: 'silent' }),
      () => undefined,
    );
    const started = performance.now();
    link.start();
    while (link.status().acked < records) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    await link.stop();
    return { perSecond: records / seconds, rawPerSecond };
  } finally {
    db.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rawPublish(broker: CloudBroker, payloads: Array<{ topic: string; payload: string }>): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const client = connect(broker.passwordUrl, {
    protocolVersion: 5,
    clientId: 'raw',
    username: 'gw',
    password: 'gw-secret',
    ca: readFileSync(broker.certs.ca),
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let next = 0;
    let done = 0;
    const send = () => {
      const p = payloads[next++];
      if (!p) return;
      client.publish(p.topic, p.payload, { qos: 1 }, () => {
        if (++done === payloads.length) resolve();
        else send();
      });
    };
    for (let i = 0; i < WINDOW; i++) send();
  });
  const seconds = (performance.now() - started) / 1000;
  await client.endAsync();
  return payloads.length / seconds;
}
