import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import type { StoredBucket } from '../../gateway/metering/service.ts';
import { PersistentCounters } from '../../gateway/store/counters.ts';
import { topics } from '../../protocol/index.ts';
import { CloudSubscriber, SCHEMA_BY_TYPE, deliveryReport, schemaValidator } from '../helpers/cloudSubscriber.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { HeldClock } from '../helpers/heldClock.ts';
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
// The gateway's clock is held 3 s before an hour ends until the fridge's first temperature is stored,
// then runs, so the first bucket closes during the test with readings in it however slow the start.
const hourEnd = Math.ceil(Date.now() / HOUR) * HOUR + HOUR;
const clock = new HeldClock(hourEnd - 3000);

// as README "Usage metering and cloud sync" recommends: each provider reads and commands only its own stream
const ACL = `user gw-1
topic readwrite trellis/v1/gw-1/#
pattern read trellis/v1/+/status
pattern read trellis/v1/+/p/%u/#
pattern write trellis/v1/+/p/%u/cmd/#
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
  writeFileSync(
    join(gwDir, 'rules.yaml'),
    `rules:
  - id: plug-2-always-on
    protected: true
    triggers: [{device: shop-fridge, attribute: door, to: true}]
    actions: [{set: {device: plug-2, attribute: rl_1, value: true}}]
`,
  );
  gw = await startTestGateway(
    {
      gatewayId: 'gw-1',
      timezone: 'UTC',
      rules: { file: join(gwDir, 'rules.yaml') },
      safety: { limits: { 'shop-fridge.setpoint': { min: 1, max: 8 } } },
      cloud: { url: broker.passwordUrl, username: 'gw-1', passwordFile, ca: broker.certs.ca, backoffMinMs: 100, backoffMaxMs: 1000 },
    },
    dirs,
    clock,
  );
  // provider-b monitors everything with real device ids; provider-a may only command three attributes
  gw.running.grants.add({ providerId: 'provider-b', devices: ['*'], classes: ['usage', 'maintenance', 'health', 'alerts'], identity: true });
  gw.running.grants.add({
    providerId: 'provider-a',
    devices: ['plug-1', 'plug-2', 'shop-fridge'],
    classes: [],
    commands: ['rl_1', 'setpoint'],
    identity: true,
  });
  fleet = await startSimFleet(
    gw,
    [
      { kind: 'fridge', node: 'shop-fridge', name: 'Fridge' },
      { kind: 'plug', node: 'plug-1', name: 'Plug 1' },
      { kind: 'plug', node: 'plug-2', name: 'Plug 2' },
    ],
    { reportMs: 10_000 },
  );
  await waitFor(() => ['shop-fridge', 'plug-1', 'plug-2'].every((id) => gw.running.registry.get(id)), 5000, 'devices');
  const temperatureStored = () => {
    const series = gw.running.registry.get('shop-fridge')?.seriesIds.temperature;
    return series !== undefined && gw.running.db.prepare('SELECT 1 FROM readings WHERE series_id = ?').get(series) !== undefined;
  };
  await waitFor(temperatureStored, 10_000, 'fridge temperature stored');
  clock.release();
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
    const msg = await waitFor(
      () => sub.of('usage').find((m) => (m.json.data as { deviceId: string }).deviceId === 'shop-fridge'),
      15_000,
      'fridge usage bucket',
    );
    expect(validate('usage.json', msg.json)).toBeUndefined();
    expect(msg.topic).toBe('trellis/v1/gw-1/p/provider-b/usage/shop-fridge');
    const b = msg.json.data as StoredBucket;
    expect(b.end - b.start).toBe(HOUR);
    expect(b.end).toBe(hourEnd);
    const series = gw.running.registry.get('shop-fridge')?.seriesIds.temperature;
    const agg = gw.running.db
      .prepare('SELECT count(*) AS n, min(num) AS min, max(num) AS max, avg(num) AS mean FROM readings WHERE series_id = ? AND ts >= ? AND ts < ?')
      .get(series, b.start, b.end) as { n: number; min: number; max: number; mean: number };
    expect(agg.n).toBeGreaterThan(0);
    expect(b.metrics.temperature).toEqual({ role: 'temperature', unit: '°C', samples: agg.n, min: agg.min, max: agg.max, mean: Number(agg.mean.toFixed(3)) });
    const firstSeen = gw.running.db.prepare("SELECT min(ts) AS t FROM device_events WHERE device_id = 'shop-fridge' AND kind = 'availability'").get() as {
      t: number;
    };
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
      localStart: `${new Date(from).toISOString().slice(0, 16)}+00:00`,
      metrics: { energy: { role: 'energy', unit: 'Wh', delta: 120 + i, resets: 0, rollovers: 0, samples: 360 } },
      gaps: [],
      offlineSeconds: 0,
    }));
    g.running.db.transaction(() => cloud.queueUsage(buckets))();
    for (let i = 0; i < 50; i++) {
      cloud.maintenance({
        deviceId: `dev-${i}`,
        signal: 'duty_cycle',
        attribute: 'compressor',
        value: 0.4,
        unit: 'ratio',
        threshold: 0.85,
        exceeded: false,
        at: from + HOUR,
      });
    }
    for (let m = 0; m < 60; m++)
      cloud.outbox.enqueue('telemetry', topics('gw-1').health('provider-b'), 'health', cloud.health(), { provider: 'provider-b', dataClass: 'health' });
    cloud.alert({ id: h + 1, source: 'maintenance', deviceId: 'dev-1', severity: 'warning', message: `hour ${h}`, at: from });
  }
  const last = counters.get('outbox.lastSeq');
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

describe('remote commands', () => {
  let provider: CloudSubscriber;
  beforeAll(async () => {
    provider = await CloudSubscriber.connect(broker.passwordUrl, 'trellis/v1/gw-1/p/provider-a/cmd-result/#', {
      protocolVersion: 5,
      username: 'provider-a',
      password: 'a-secret',
      ca: readFileSync(broker.certs.ca),
    });
    await waitFor(() => gw.running.cloud?.link.status().connected, 10_000, 'gateway connected');
    await waitFor(() => gw.running.rules.ruleCount === 1, 5000, 'protected rule active').catch((err: Error) => {
      throw new Error(`${err.message}: ${gw.running.ruleFile.lastProblems}`);
    });
  });
  afterAll(async () => {
    await provider?.close();
  });

  const send = async (requestId: string, body: unknown, as = provider, who = 'provider-a') => {
    await as.client.publishAsync(`trellis/v1/gw-1/p/${who}/cmd/${requestId}`, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
  };
  const result = (requestId: string) =>
    waitFor(
      () => provider.messages.find((m) => m.topic.endsWith(`/${requestId}`))?.json.data as { status: string; reason?: string } | undefined,
      10_000,
      `result of ${requestId}`,
    );
  const logged = (requestId: string) => gw.running.db.prepare('SELECT provider, status, reason FROM command_log WHERE request_id = ?').all(requestId);

  it('runs an allowed command: the simulated plug switches, the result says done, the log has it', async () => {
    const plug = fleet.get('plug-1');
    const before = plug?.received.length ?? 0;
    await send('r-on', { v: 1, deviceId: 'plug-1', attribute: 'rl_1', value: false });
    expect(await result('r-on')).toMatchObject({ status: 'done' });
    await waitFor(() => (plug?.received.length ?? 0) > before, 5000, 'plug got the command');
    expect(plug?.received.at(-1)).toMatchObject({ topic: 'plug-1/cmnd/POWER', payload: 'OFF' });
    expect(logged('r-on')).toEqual([{ provider: 'provider-a', status: 'done', reason: null }]);
  });

  it('answers a redelivered request id from the log without running it again', async () => {
    const plug = fleet.get('plug-1');
    const before = plug?.received.length ?? 0;
    const answers = () => provider.messages.filter((m) => m.topic.endsWith('/r-on')).length;
    await send('r-on', { v: 1, deviceId: 'plug-1', attribute: 'rl_1', value: true });
    await waitFor(() => answers() === 2, 5000, 'second answer');
    expect(provider.messages.filter((m) => m.topic.endsWith('/r-on')).map((m) => (m.json.data as { status: string }).status)).toEqual(['done', 'done']);
    expect(plug?.received.length).toBe(before);
  });

  it("refuses a device outside the allowlist, a protected rule's attribute and a value past the local safety limit, and logs each", async () => {
    await send('r-2', { v: 1, deviceId: 'shop-fridge', attribute: 'door', value: true });
    expect(await result('r-2')).toEqual(expect.objectContaining({ status: 'refused', reason: 'no grant lets provider "provider-a" set door on shop-fridge' }));
    await send('r-3', { v: 1, deviceId: 'plug-2', attribute: 'rl_1', value: false });
    expect(await result('r-3')).toEqual(
      expect.objectContaining({ status: 'refused', reason: 'plug-2.rl_1 is controlled by protected rule "plug-2-always-on"' }),
    );
    await send('r-4', { v: 1, deviceId: 'shop-fridge', attribute: 'setpoint', value: 11 });
    expect(await result('r-4')).toEqual(
      expect.objectContaining({ status: 'refused', reason: 'shop-fridge.setpoint: 11 is outside the local safety limit 1..8' }),
    );
    for (const id of ['r-2', 'r-3', 'r-4']) expect(logged(id)).toEqual([expect.objectContaining({ provider: 'provider-a', status: 'refused' })]);
    const audited = gw.running.db.prepare("SELECT actor, details FROM audit_log WHERE action = 'remote.command'").all() as Array<{
      actor: string;
      details: string;
    }>;
    for (const id of ['r-2', 'r-3', 'r-4']) expect(audited.find((a) => JSON.parse(a.details).requestId === id)).toMatchObject({ actor: 'provider:provider-a' });
    expect((fleet.get('shop-fridge')?.state as { setpoint: number }).setpoint).toBe(4);
  });

  it('runs a command within the safety limit', async () => {
    await send('r-5', { v: 1, deviceId: 'shop-fridge', attribute: 'setpoint', value: 6 });
    expect(await result('r-5')).toMatchObject({ status: 'done' });
    await waitFor(() => (fleet.get('shop-fridge')?.state as { setpoint: number }).setpoint === 6, 5000, 'setpoint 6');
  });

  it('answers a malformed command with the field at fault', async () => {
    await send('r-6', '{"v":1,"deviceId":"plug-1","attribute":"rl_1"}');
    expect(await result('r-6')).toEqual(expect.objectContaining({ status: 'invalid', reason: 'payload.value: expected a number, boolean or string' }));
    await send('r-7', 'not json');
    expect(await result('r-7')).toEqual(expect.objectContaining({ status: 'invalid', reason: 'payload: not JSON' }));
  });

  it('a provider cannot speak for another: the broker ACL drops it and the gateway never sees it', async () => {
    const b = await CloudSubscriber.connect(broker.passwordUrl, 'trellis/v1/gw-1/p/provider-b/cmd-result/#', {
      protocolVersion: 4,
      username: 'provider-b',
      password: 'b-secret',
      ca: readFileSync(broker.certs.ca),
    });
    try {
      await send('r-8', { v: 1, deviceId: 'plug-1', attribute: 'rl_1', value: true }, b, 'provider-a');
      await send('r-9', { v: 1, deviceId: 'plug-1', attribute: 'rl_1', value: true }, b, 'provider-b');
      const r9 = await waitFor(() => sub.messages.find((m) => m.topic === 'trellis/v1/gw-1/p/provider-b/cmd-result/r-9'), 10_000, 'answer to provider-b');
      expect(r9.json.data).toMatchObject({ status: 'refused', reason: 'no grant lets provider "provider-b" set rl_1 on plug-1' });
      expect(logged('r-8')).toEqual([]);
      expect(logged('r-9')).toEqual([expect.objectContaining({ provider: 'provider-b', status: 'refused' })]);
    } finally {
      await b.close();
    }
  });
});

describe('client certificates and MQTT 3.1.1', () => {
  it('a second gateway logs in with its certificate over 3.1.1 and its alerts arrive', async () => {
    const other = await startTestGateway({
      gatewayId: 'gw-1',
      cloud: {
        url: broker.certificateUrl,
        clientId: 'gw-1-cert',
        ca: broker.certs.ca,
        cert: broker.certs.clients['gw-1']?.cert,
        key: broker.certs.clients['gw-1']?.key,
        protocol: 4,
      },
    });
    try {
      await waitFor(() => other.running.cloud?.link.status().connected, 10_000, 'certificate login');
      expect(other.running.cloud?.link.status().protocol).toBe(4);
      other.running.grants.add({ providerId: 'provider-b', devices: ['*'], classes: ['alerts'] });
      other.running.alerts.raise({ source: 'gateway', severity: 'critical', message: 'certificate path works', at: Date.now() });
      const alert = await waitFor(
        () => sub.of('alert').find((m) => (m.json.data as { message: string }).message === 'certificate path works'),
        10_000,
        'alert',
      );
      expect(validate('alert.json', alert.json)).toBeUndefined();
      const stored = other.running.db.prepare("SELECT source, severity FROM alerts WHERE message = 'certificate path works'").all();
      expect(stored).toEqual([{ source: 'gateway', severity: 'critical' }]);
    } finally {
      await other.stop();
    }
  });
});

describe('health', () => {
  it('reports uptime, loop lag, memory, disk, outbox, drivers and devices online', () => {
    const h = gw.running.cloud?.health();
    expect(validate('health.json', { v: 1, key: 'gw-1:1', seq: 1, gatewayId: 'gw-1', type: 'health', at: 1, data: h })).toBeUndefined();
    expect(h?.devices).toEqual({ known: 3, online: 3 });
    expect(h?.drivers.mqtt?.messages).toBeGreaterThan(0);
    expect(h?.memory.rssBytes).toBeGreaterThan(10_000_000);
    expect(h?.disk.freeBytes).toBeGreaterThan(0);
    expect(h?.disk.databaseBytes).toBeGreaterThan(0);
    expect(h?.outbox.maxBytes).toBe(256 * 1024 * 1024);
    expect(h?.cloud.acked).toBeGreaterThan(3000);
    expect(h?.outbox.dropped).toEqual({ alarm: 0, usage: 0, maintenance: 0, telemetry: 0 });
  });
});
