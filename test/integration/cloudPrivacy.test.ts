import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import type { StoredBucket } from '../../gateway/metering/service.ts';
import type { CloudSubscriber } from '../helpers/cloudSubscriber.ts';
import { startProviderCloud } from '../helpers/providerCloud.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * Grants enforced in the cloud stream, on a real mosquitto whose ACL gives each provider only its own
 * p/<provider>/ stream: what a provider was not granted never reaches it; device ids are per-provider
 * pseudonyms; revoking during an outage purges the queued records before they are sent; remote
 * commands without a grant or against a protected rule are refused and audited.
 */
const dirs = new TempDirs();
let broker: CloudBroker;
let gw: TestGateway;
let subs: Record<'coolco' | 'beanco', CloudSubscriber>;
const HOUR = 3_600_000;

const bucket = (deviceId: string, seq: number): StoredBucket => ({
  seq,
  deviceId,
  start: 1_800_000_000_000,
  end: 1_800_000_000_000 + HOUR,
  localStart: '2027-01-15T08:00+00:00',
  metrics: { energy: { role: 'energy', unit: 'Wh', delta: 42, resets: 0, rollovers: 0, samples: 3 } },
  gaps: [],
  offlineSeconds: 0,
});

beforeAll(async () => {
  const dir = dirs.make('trellis-privacy-');
  ({ broker, subs } = await startProviderCloud(dir, { coolco: 'cool-secret', beanco: 'bean-secret' }, () => 'trellis/v1/gw-1/#'));
  writeFileSync(join(dir, 'pw'), 'gw-secret');
  writeFileSync(
    join(dir, 'rules.yaml'),
    `rules:
  - id: coffee-off-when-fridge-warm
    protected: true
    triggers: [{device: fridge-1, attribute: temperature, above: 12}]
    actions: [{set: {device: coffee-1, attribute: descale, value: false}}]
`,
  );
  gw = await startTestGateway(
    {
      gatewayId: 'gw-1',
      rules: { file: join(dir, 'rules.yaml') },
      cloud: { url: broker.passwordUrl, username: 'gw-1', passwordFile: join(dir, 'pw'), ca: broker.certs.ca, backoffMinMs: 100, backoffMaxMs: 1000 },
    },
    dirs,
  );
  const { hub, db, grants } = gw.running;
  hub.describe({
    id: 'fridge-1',
    name: 'Fridge',
    protocol: 'mqtt',
    owner: 'fridge-1',
    attributes: { temperature: { type: 'number', deviceClass: 'temperature', writable: false }, setpoint: { type: 'number', writable: true } },
  });
  hub.describe({
    id: 'coffee-1',
    name: 'Coffee',
    protocol: 'mqtt',
    owner: 'coffee-1',
    attributes: { power: { type: 'boolean', writable: true }, descale: { type: 'boolean', writable: true } },
  });
  db.prepare("INSERT INTO device_meta (device_id, tags) VALUES ('coffee-1', '[\"coffee\"]')").run();
  grants.add({ providerId: 'coolco', devices: ['fridge-1'], classes: ['usage', 'alerts'] });
  grants.add({ providerId: 'beanco', devices: ['tag:coffee'], classes: ['maintenance'], commands: ['power', 'descale'] });
  await waitFor(() => gw.running.cloud?.link.status().connected && gw.running.rules.ruleCount === 1, 10_000, 'link up, rule active');
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  for (const s of Object.values(subs)) await s?.close();
  await broker?.stop();
  dirs.cleanup();
});

/** Queues one of everything about both devices. */
function produceEverything(seq: number): void {
  const cloud = gw.running.cloud;
  if (!cloud) throw new Error('no cloud sync');
  gw.running.db.transaction(() => cloud.queueUsage([bucket('fridge-1', seq), bucket('coffee-1', seq + 1)]))();
  for (const deviceId of ['fridge-1', 'coffee-1']) {
    cloud.maintenance({ deviceId, signal: 'drift', attribute: 'temperature', value: 0.1, unit: '°C', threshold: 2, exceeded: false, at: Date.now() });
    gw.running.alerts.raise({ source: 'maintenance', deviceId, severity: 'warning', message: `${deviceId} needs a look`, at: Date.now() });
  }
  gw.running.alerts.raise({ source: 'gateway', severity: 'info', message: 'gateway-wide notice', at: Date.now() });
  cloud.queueHealth();
}

const payloads = (name: 'coolco' | 'beanco') => subs[name].messages.filter((m) => m.json.type !== undefined);

describe('grants in the cloud stream', () => {
  it("each provider's retained manifest lists only the devices its grants cover, under its pseudonyms", async () => {
    await gw.running.cloud?.publishManifests();
    const manifest = (name: 'coolco' | 'beanco') =>
      waitFor(() => subs[name].messages.find((m) => m.topic === `trellis/v1/gw-1/p/${name}/manifest`), 10_000, `${name}'s manifest`);
    const bean = await manifest('beanco');
    const cool = await manifest('coolco');
    expect(bean.json.devices).toEqual([
      {
        deviceId: gw.running.grants.pseudonym('beanco', 'coffee-1'),
        capabilities: ['descale', 'power'],
        commands: ['descale', 'power'],
        classes: ['maintenance'],
        online: false,
      },
    ]);
    expect(cool.json.devices).toEqual([
      {
        deviceId: gw.running.grants.pseudonym('coolco', 'fridge-1'),
        capabilities: ['setpoint', 'temperature'],
        commands: [],
        classes: ['alerts', 'usage'],
        online: false,
      },
    ]);
    for (const m of [bean, cool]) {
      expect(m.text).not.toContain('fridge-1');
      expect(m.text).not.toContain('coffee-1');
      expect(m.text).not.toContain('Coffee'); // real names only under an identity grant
    }
    expect(subs.beanco.messages.some((m) => m.topic.endsWith('/p/coolco/manifest'))).toBe(false);
  });

  it('each provider receives only its granted classes of its granted devices, under its own pseudonyms', async () => {
    produceEverything(1);
    await waitFor(() => gw.running.cloud?.outbox.stats().depth === 0, 10_000, 'drained');
    await waitFor(() => payloads('coolco').length >= 2 && payloads('beanco').length >= 1, 10_000, 'deliveries');
    await new Promise((r) => setTimeout(r, 300)); // anything else would have arrived by now
    const cool = payloads('coolco');
    const bean = payloads('beanco');
    const coolRef = gw.running.grants.pseudonym('coolco', 'fridge-1');
    const beanRef = gw.running.grants.pseudonym('beanco', 'coffee-1');
    expect(cool.map((m) => [m.topic, m.json.type]).sort()).toEqual([
      ['trellis/v1/gw-1/p/coolco/alert', 'alert'],
      [`trellis/v1/gw-1/p/coolco/usage/${coolRef}`, 'usage'],
    ]);
    expect(bean.map((m) => [m.topic, m.json.type])).toEqual([[`trellis/v1/gw-1/p/beanco/maintenance/${beanRef}`, 'maintenance']]);
    for (const m of [...cool, ...bean]) {
      expect(m.text).not.toContain('fridge-1');
      expect(m.text).not.toContain('coffee-1');
    }
    expect((cool.find((m) => m.json.type === 'usage')?.json.data as { deviceId: string }).deviceId).toBe(coolRef);
    expect(coolRef).not.toBe(gw.running.grants.pseudonym('beanco', 'fridge-1'));
    expect(subs.beanco.messages.some((m) => m.topic.includes('/p/coolco/'))).toBe(false);
  });

  it('revoking a grant during an outage purges its queued records before they are sent', async () => {
    const cloud = gw.running.cloud;
    if (!cloud) throw new Error('no cloud sync');
    await broker.stop();
    await waitFor(() => !cloud.link.status().connected, 5000, 'link down');
    const coolBefore = payloads('coolco').length;
    const beanBefore = payloads('beanco').length;
    produceEverything(100);
    const queued = (provider: string) => (gw.running.db.prepare('SELECT count(*) AS n FROM outbox WHERE provider = ?').get(provider) as { n: number }).n;
    expect(queued('coolco')).toBe(2);
    expect(queued('beanco')).toBe(1);
    const coolGrant = gw.running.grants.active().find((g) => g.providerId === 'coolco');
    gw.running.grants.revoke(coolGrant?.id ?? -1);
    expect(queued('coolco')).toBe(0);
    expect(queued('beanco')).toBe(1);
    await broker.start();
    await waitFor(() => payloads('beanco').length === beanBefore + 1, 15_000, 'beanco gets its record');
    await waitFor(() => cloud.outbox.stats().depth === 0, 10_000, 'drained');
    await new Promise((r) => setTimeout(r, 300));
    expect(payloads('coolco').length).toBe(coolBefore);
    // and coolco's fleet learns that its access ended: an empty manifest
    const empty = await waitFor(
      () => subs.coolco.messages.filter((m) => m.topic.endsWith('/p/coolco/manifest')).find((m) => (m.json.devices as unknown[]).length === 0),
      35_000,
      'an empty manifest',
    );
    expect(empty.json.gatewayId).toBe('gw-1');
  }, 80_000);

  it('refuses and audits a remote command without a grant, and one against a protected rule', async () => {
    const beanco = subs.beanco;
    const send = (requestId: string, deviceId: string, attribute: string, value: unknown) =>
      beanco.client.publishAsync(`trellis/v1/gw-1/p/beanco/cmd/${requestId}`, JSON.stringify({ v: 1, deviceId, attribute, value }), { qos: 1 });
    const answer = (requestId: string) =>
      waitFor(
        () =>
          beanco.messages.find((m) => m.topic === `trellis/v1/gw-1/p/beanco/cmd-result/${requestId}`)?.json.data as
            | { status: string; reason: string }
            | undefined,
        10_000,
        requestId,
      );
    const coffee = gw.running.grants.pseudonym('beanco', 'coffee-1');
    await send('c-1', gw.running.grants.pseudonym('beanco', 'fridge-1'), 'setpoint', 2);
    expect(await answer('c-1')).toMatchObject({ status: 'refused', reason: expect.stringMatching(/^no grant lets provider "beanco" set setpoint on d-/) });
    await send('c-2', coffee, 'descale', false);
    expect(await answer('c-2')).toMatchObject({ status: 'refused', reason: `${coffee}.descale is controlled by protected rule "coffee-off-when-fridge-warm"` });
    await send('c-3', 'coffee-1', 'power', true); // the real id is not a name beanco was given
    expect((await answer('c-3')).status).toBe('refused');
    const audit = gw.running.db.prepare("SELECT actor, subject, details FROM audit_log WHERE action = 'remote.command' ORDER BY id").all() as Array<{
      actor: string;
      subject: string | null;
      details: string;
    }>;
    expect(audit.map((a) => [a.actor, a.subject, JSON.parse(a.details).requestId, JSON.parse(a.details).status])).toEqual([
      ['provider:beanco', null, 'c-1', 'refused'],
      ['provider:beanco', 'coffee-1', 'c-2', 'refused'],
      ['provider:beanco', null, 'c-3', 'refused'],
    ]);
    expect(gw.running.audit.verify()).toMatchObject({ ok: true });
  });

  it('answers resend and diagnostic requests only under a grant of that class for that device, and audits them', async () => {
    const beanco = subs.beanco;
    const coffee = gw.running.grants.pseudonym('beanco', 'coffee-1');
    const answer = (kind: string, requestId: string) =>
      waitFor(
        () => beanco.messages.find((m) => m.topic === `trellis/v1/gw-1/p/beanco/${kind}-result/${requestId}`)?.json.data as Record<string, unknown> | undefined,
        10_000,
        requestId,
      );
    await beanco.client.publishAsync(
      'trellis/v1/gw-1/p/beanco/resend/r-1',
      JSON.stringify({ v: 1, deviceId: coffee, from: 1_800_000_000_000, to: 1_800_000_000_000 + 2 * HOUR }),
      { qos: 1 },
    );
    expect(await answer('resend', 'r-1')).toMatchObject({
      status: 'refused',
      resent: 0,
      missing: 2,
      reason: `no grant gives provider "beanco" the usage of ${coffee}`,
    });
    await beanco.client.publishAsync('trellis/v1/gw-1/p/beanco/diag/d-1', JSON.stringify({ v: 1, deviceId: coffee }), { qos: 1 });
    expect(await answer('diag', 'd-1')).toMatchObject({ status: 'refused', reason: `no grant gives provider "beanco" the telemetry of ${coffee}` });
    await beanco.client.publishAsync('trellis/v1/gw-1/p/beanco/resend/r-2', JSON.stringify({ v: 1, deviceId: coffee, from: 5, to: 1 }), { qos: 1 });
    expect(await answer('resend', 'r-2')).toMatchObject({ status: 'refused', reason: 'from..to: expected 1 hour to 31 days' });
    expect(beanco.messages.some((m) => m.json.type === 'usage')).toBe(false);
    const audit = gw.running.db.prepare("SELECT action, actor FROM audit_log WHERE action IN ('remote.resend', 'remote.diagnostic') ORDER BY id").all();
    expect(audit).toEqual([
      { action: 'remote.resend', actor: 'provider:beanco' },
      { action: 'remote.diagnostic', actor: 'provider:beanco' },
      { action: 'remote.resend', actor: 'provider:beanco' },
    ]);
  });
});
