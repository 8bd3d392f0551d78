import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import { scaledClock } from '../../gateway/clock.ts';
import type { StoredBucket } from '../../gateway/metering/service.ts';
import { PersistentCounters } from '../../gateway/store/counters.ts';
import { topics } from '../../gateway/cloud/payloads.ts';
import { CloudSubscriber, SCHEMA_BY_TYPE, deliveryReport, schemaValidator } from '../helpers/cloudSubscriber.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * Cloud sync against a real Debian mosquitto with TLS, started by the test: password and client-
 * certificate logins, the outbox through a broker outage of a simulated day, usage buckets from a
 * simulated fridge reconciled with the stored readings, payloads checked against docs/schemas, and
 * remote commands (allowed, refused by allowlist, protected rule, safety limit; all logged).
 */
const dirs = new TempDirs();
let broker: CloudBroker;
let gw: TestGateway;
let fleet: Fleet;
let sub: CloudSubscriber;
const validate = schemaValidator();
const HOUR = 3_600_000;
// The gateway's clock starts 3 s before an hour ends, so the first bucket closes during the test.
const hourEnd = Math.ceil(Date.now() / HOUR) * HOUR + HOUR;

const ACL = `user gw-1
topic readwrite trellis/v1/gw-1/#
user provider-a
topic read trellis/v1/gw-1/#
topic write trellis/v1/gw-1/cmd/provider-a/#
user provider-b
topic read trellis/v1/gw-1/#
topic write trellis/v1/gw-1/cmd/provider-b/#
`;

beforeAll(async () => {
  const dir = dirs.make('trellis-cloud-');
  broker = new CloudBroker({
    dir,
    users: { 'gw-1': 'gw-secret', 'provider-a': 'a-secret', 'provider-b': 'b-secret' },
    certificateClients: ['gw-1', 'provider-a'],
    acl: ACL,
    passwordPort: await freePort(),
    certificatePort: await freePort(),
  });
  await broker.start();
  // provider-b's backend: a persistent session, so what the gateway sends while it reconnects is kept
  sub = await CloudSubscriber.connect(broker.passwordUrl, 'trellis/v1/gw-1/#', {
    protocolVersion: 5,
    clientId: 'provider-b-backend',
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
    username: 'provider-b',
    password: 'b-secret',
    ca: readFileSync(broker.certs.ca),
  });
  const passwordFile = join(dir, 'gw-password');
  writeFileSync(passwordFile, 'gw-secret\n');
  const gwDir = dirs.make();
  writeFileSync(join(gwDir, 'rules.yaml'), `rules:
  - id: plug-2-always-on
    protected: true
    triggers: [{device: plug-2, attribute: rl_1, to: false}]
    actions: [{set: {device: plug-2, attribute: rl_1, value: true}}]
`);
  gw = await startTestGateway(
    {
      gatewayId: 'gw-1',
      timezone: 'UTC',
      rules: { file: join(gwDir, 'rules.yaml') },
      safety: { limits: { 'shop-fridge.setpoint': { min: 1, max: 8 } } },
      cloud: {
        url: broker.passwordUrl,
        username: 'gw-1',
        passwordFile,
        ca: broker.certs.ca,
        backoffMinMs: 100,
        backoffMaxMs: 1000,
        providers: [
          { id: 'provider-a', commands: [{ device: 'plug-1', attributes: ['rl_1'] }, { device: 'plug-2', attributes: ['rl_1'] }, { device: 'shop-fridge', attributes: ['setpoint'] }] },
        ],
      },
    },
    dirs,
    scaledClock(1, hourEnd - 3000),
  );
  const devices = [];
  for (const m of [{ kind: 'fridge', node: 'shop-fridge', name: 'Fridge' }, { kind: 'plug', node: 'plug-1', name: 'Plug 1' }, { kind: 'plug', node: 'plug-2', name: 'Plug 2' }]) {
    devices.push({ ...m, password: await gw.running.credentials.create(m.node) });
  }
  fleet = new Fleet({ url: gw.url, devices, clock: createClock(60), reportMs: 10_000 });
  await fleet.start();
  await waitFor(() => ['shop-fridge', 'plug-1', 'plug-2'].every((id) => gw.running.registry.get(id)), 5000, 'devices');
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  await gw?.stop();
  await sub?.close();
  await broker?.stop();
  dirs.cleanup();
});

describe('cloud sync through mosquitto (TLS + password)', () => {
  it('announces itself with a retained birth message', async () => {
    const birth = await waitFor(() => sub.messages.find((m) => m.topic === 'trellis/v1/gw-1/status' && m.json.state === 'online'), 10_000, 'birth');
    expect(validate('status.json', birth.json)).toBeUndefined();
    expect(gw.running.cloud?.link.status()).toMatchObject({ connected: true, protocol: 5 });
  });

  it('syncs the closed hour of a simulated fridge, and the bucket reconciles with the stored readings', async () => {
    const msg = await waitFor(() => sub.of('usage').find((m) => (m.json.data as { deviceId: string }).deviceId === 'shop-fridge'), 15_000, 'fridge usage bucket');
    expect(validate('usage.json', msg.json)).toBeUndefined();
    expect(msg.topic).toBe('trellis/v1/gw-1/usage/shop-fridge');
    const b = msg.json.data as StoredBucket;
    expect(b.end - b.start).toBe(HOUR);
    expect(b.end).toBe(hourEnd);
    const series = gw.running.registry.get('shop-fridge')?.seriesIds.temperature;
    const agg = gw.running.db
      .prepare('SELECT count(*) AS n, min(num) AS min, max(num) AS max, avg(num) AS mean FROM readings WHERE series_id = ? AND ts >= ? AND ts < ?')
      .get(series, b.start, b.end) as { n: number; min: number; max: number; mean: number };
    expect(agg.n).toBeGreaterThan(0);
    expect(b.metrics.temperature).toEqual({ role: 'temperature', unit: '°C', samples: agg.n, min: agg.min, max: agg.max, mean: Number(agg.mean.toFixed(3)) });
    const firstSeen = gw.running.db.prepare("SELECT min(ts) AS t FROM device_events WHERE device_id = 'shop-fridge' AND kind = 'availability'").get() as { t: number };
    expect(b.gaps[0]).toEqual({ from: b.start, to: firstSeen.t, reason: 'offline' }); // known only since the test began
  });

  it('keeps every record through a broker outage of a simulated day at the design rate, in order, resends only with the same key', async () => {
    const cloud = gw.running.cloud;
    if (!cloud) throw new Error('cloud sync is not running');
    await broker.stop();
    await waitFor(() => !cloud.link.status().connected, 5000, 'link down');
    const before = cloud.outbox.stats().depth;
    const queued = queueDesignDay(gw, hourEnd);
    expect(cloud.outbox.stats().depth).toBe(before + queued.length);
    await broker.start();
    // ... and down once more in the middle of the drain, with records in flight
    const seen = sub.messages.length;
    await waitFor(() => sub.messages.length > seen + 500, 20_000, 'drain under way');
    await broker.stop();
    expect(cloud.outbox.stats().depth).toBeGreaterThan(0);
    await broker.start();
    await waitFor(() => cloud.link.status().connected, 10_000, 'link up again');
    await waitFor(() => cloud.outbox.stats().depth === 0, 30_000, 'outbox drained');
    await waitFor(() => queued.every((s) => sub.messages.some((m) => m.json.seq === s)), 20_000, 'subscriber got every record');
    const report = deliveryReport(sub.messages, queued);
    expect(report.missing).toEqual([]);
    expect(report.changedResends).toEqual([]);
    expect(report.inversions).toEqual([]);
    for (const m of sub.messages.filter((x) => x.json.v === 1 && typeof x.json.type === 'string').slice(0, 400)) {
      expect(validate(SCHEMA_BY_TYPE[String(m.json.type)] as string, m.json), `${m.topic}`).toBeUndefined();
    }
  }, 90_000);
});

/**
 * The design rate of a shop gateway, per hour: 50 devices' usage buckets, 50 maintenance signals,
 * health every minute and an alert. Queued as the gateway's own producers queue them; returns the
 * sequence numbers queued meanwhile (including anything the running gateway added itself).
 */
function queueDesignDay(g: TestGateway, start: number): number[] {
  const cloud = g.running.cloud;
  if (!cloud) throw new Error('cloud sync is not running');
  const counters = new PersistentCounters(g.running.db);
  const first = counters.get('outbox.lastSeq') + 1;
  let bucketSeq = 1_000_000;
  for (let h = 0; h < 24; h++) {
    const from = start + h * HOUR;
    const buckets: StoredBucket[] = Array.from({ length: 50 }, (_, i) => ({
      seq: bucketSeq++,
      deviceId: `dev-${i}`,
      start: from,
      end: from + HOUR,
      localStart: new Date(from).toISOString().slice(0, 16) + '+00:00',
      metrics: { energy: { role: 'energy', unit: 'Wh', delta: 120 + i, resets: 0, rollovers: 0, samples: 360 } },
      gaps: [],
      offlineSeconds: 0,
    }));
    g.running.db.transaction(() => cloud.usage(buckets))();
    for (let i = 0; i < 50; i++) {
      cloud.maintenance({ deviceId: `dev-${i}`, signal: 'duty_cycle', attribute: 'compressor', value: 0.4, unit: 'ratio', threshold: 0.85, exceeded: false, at: from + HOUR });
    }
    for (let m = 0; m < 60; m++) cloud.outbox.enqueue('telemetry', topics('gw-1').health, 'health', cloud.health());
    cloud.alert({ source: 'maintenance', deviceId: 'dev-1', severity: 'warning', message: `hour ${h}`, at: from });
  }
  const last = counters.get('outbox.lastSeq');
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}
