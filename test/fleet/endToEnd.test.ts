import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { People } from '../../fleet/people.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { type TestGateway, waitFor } from '../helpers/testGateway.ts';
import { type FridgeFirmware, fridgeFirmware } from './fridgeFirmware.ts';
import { gatewayIntoFleet, startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * A real gateway (its MQTT broker, rules, metering, cloud sync) with simulated devices, syncing over
 * TLS into a real trellis-fleet (the embedded broker, PGlite, the periodic jobs, the API), the way a
 * small provider runs it: the inventory from the gateway's manifest, a door held open turned into an
 * alarm and a ticket a technician resolves and the fleet verifies, remote commands and a bulk job,
 * a diagnostic snapshot, gap repair through a resend, and a grant revoked.
 */
const dirs = new TempDirs();
const HOUR = 3_600_000;
const PASSWORD = 'a long enough password';
let f: TestFleet;
let gw: TestGateway;
let sims: Fleet;
let firmware: FridgeFirmware;
let idle: MqttClient;
let admin: string;
let dee: string;
let tess: string;
let tessId: number;
let fridgeRef: string;
let plugRef: string;

const RULES = `rules:
  - id: fridge-door-open
    triggers: [{device: shop-fridge, attribute: door, to: true, for: 1s}]
    actions: [{notify: {message: "shop-fridge door held open", severity: warning, device: shop-fridge}}]
  - id: sign-on-when-closed
    protected: true
    triggers: [{device: shop-fridge, attribute: door, to: false}]
    actions: [{set: {device: shop-plug, attribute: rl_1, value: true}}]
`;

const door = (open: boolean) => firmware.door(open);

beforeAll(async () => {
  f = await startTestFleet(dirs, {
    broker: { embedded: { host: '127.0.0.1', port: 0, tls: true } },
    checks: {
      everySeconds: 0.2,
      gatewayOfflineMinutes: 10,
      deviceOfflineMinutes: 0.02,
      commandTimeoutMinutes: 0.05,
      commandExpiryMinutes: 60,
      gapsEverySeconds: 1,
      gapSettleSeconds: 2,
    },
    tickets: { autoOpen: [{ code: 'rule.fridge-door-open', title: 'fix the fridge door', priority: 'high' }], verifyAfterMinutes: 0.03 },
  });
  const db = f.fleet.db;
  const people = new People(db);
  await people.add('ada', 'admin', PASSWORD);
  await people.add('dee', 'dispatcher', PASSWORD);
  tessId = (await people.add('tess', 'technician', PASSWORD)).id;
  [admin, dee, tess] = [await f.signIn('ada', PASSWORD), await f.signIn('dee', PASSWORD), await f.signIn('tess', PASSWORD)];
  await addBrokerAccount(db, 'gw-2', 'gw-2-secret', Date.now());
  gw = await gatewayIntoFleet(f, dirs, { gatewayId: 'gw-1', timezone: 'Europe/Berlin', rules: RULES });
  const creds = gw.running.credentials;
  firmware = await fridgeFirmware(gw.url, await creds.create('shop-fridge'));
  sims = new Fleet({
    url: gw.url,
    devices: [
      { kind: 'plug', node: 'shop-plug', name: 'Sign plug', password: await creds.create('shop-plug') },
      { kind: 'plug', node: 'secret-plug', name: 'Private plug', password: await creds.create('secret-plug') },
    ],
    clock: createClock(1),
    reportMs: 1000,
  });
  await sims.start();
  await waitFor(() => ['shop-fridge', 'shop-plug', 'secret-plug'].every((id) => gw.running.registry.get(id)), 10_000, 'devices');
  await waitFor(() => gw.running.registry.get('shop-fridge')?.attributes.setpoint, 10_000, 'fridge setpoint');
  await waitFor(() => gw.running.rules.ruleCount === 2, 10_000, 'the rules active (they name devices that had to appear first)');
  gw.running.grants.add({
    providerId: 'coolco',
    devices: ['shop-fridge', 'shop-plug'],
    classes: ['usage', 'alerts', 'maintenance', 'health', 'telemetry'],
    commands: ['setpoint', 'rl_1'],
  });
  fridgeRef = gw.running.grants.pseudonym('coolco', 'shop-fridge');
  plugRef = gw.running.grants.pseudonym('coolco', 'shop-plug');
  await waitFor(() => gw.running.cloud?.link.status().connected, 10_000, 'cloud link');
  await gw.running.cloud?.publishManifests();
  // gw-2: a gateway that says it is online and never answers (its commands time out)
  idle = connect(f.fleet.brokerUrl as string, {
    username: 'gw-2',
    password: 'gw-2-secret',
    clientId: 'gw-2',
    protocolVersion: 4,
    ca: [],
    rejectUnauthorized: false,
  });
  await new Promise((r) => idle.once('connect', r));
  await idle.publishAsync('trellis/v1/gw-2/status', JSON.stringify({ v: 1, gatewayId: 'gw-2', state: 'online', at: Date.now() }), { qos: 1, retain: true });
  await idle.publishAsync(
    'trellis/v1/gw-2/p/coolco/manifest',
    JSON.stringify({
      v: 1,
      gatewayId: 'gw-2',
      at: Date.now(),
      timeZone: 'UTC',
      devices: [{ deviceId: 'd-idle', model: 'sim-fridge', capabilities: ['setpoint'], commands: ['setpoint'], classes: [] }],
    }),
    { qos: 1, retain: true },
  );
}, 60_000);

afterAll(async () => {
  await idle?.endAsync();
  await sims?.stop();
  await firmware?.client.endAsync();
  await gw?.stop();
  await f?.stop();
  dirs.cleanup();
});

const api = <T = unknown>(token: string, method: string, path: string, body?: unknown) => f.call<T>(token, method, path, body);

describe('gateway -> trellis-fleet, end to end', () => {
  it("shows the site's granted devices from the gateway's manifest, under the provider's pseudonyms; an ungranted device appears nowhere", async () => {
    const site = await waitFor(
      async () => {
        const r = await api<{ devices: Array<{ deviceRef: string; model: string; commands: string[] }>; site: { state: string; timeZone: string } }>(
          dee,
          'GET',
          '/api/sites/gw-1',
        );
        return r.body.devices?.length === 2 ? r.body : undefined;
      },
      10_000,
      'the manifest',
    );
    expect(site.site).toMatchObject({ state: 'online', timeZone: 'Europe/Berlin' });
    const fridgeRow = site.devices.find((d) => d.deviceRef === fridgeRef);
    expect(fridgeRow).toMatchObject({ model: 'sim-fridge', commands: ['setpoint'] });
    expect(site.devices.map((d) => d.deviceRef).sort()).toEqual([fridgeRef, plugRef].sort());
    const secret = gw.running.grants.pseudonym('coolco', 'secret-plug');
    const tables = await f.fleet.db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    for (const { table_name } of tables) {
      const hits = await f.fleet.db.query(
        `SELECT 1 FROM ${table_name} t WHERE t::text LIKE '%secret-plug%' OR t::text LIKE $1 OR t::text LIKE '%shop-fridge%'`,
        [`%${secret}%`],
      );
      expect(hits, table_name).toEqual([]);
    }
  });

  it('a door held open: gateway alert -> fleet alarm -> ticket -> the technician resolves -> the alarm stays cleared -> verified and closed', async () => {
    await door(true); // and held: the rule waits 1 s
    const ticket = await waitFor(
      async () => (await api<Array<{ id: number; alarmCode: string; deviceRef: string; state: string }>>(dee, 'GET', '/api/tickets')).body[0],
      15_000,
      'a ticket from the alarm',
    );
    expect(ticket).toMatchObject({ alarmCode: 'rule.fridge-door-open', deviceRef: fridgeRef, state: 'open' });
    const [alarm] = (await api<Array<{ code: string; state: string; message: string }>>(dee, 'GET', '/api/alarms?state=active')).body;
    expect(alarm).toMatchObject({ code: 'rule.fridge-door-open', state: 'active' });
    expect(alarm?.message).not.toContain('shop-fridge');
    expect((await api(dee, 'POST', `/api/tickets/${ticket.id}/transition`, { to: 'assigned', assigneeId: tessId })).status).toBe(200);
    // the technician sees the alarm of its ticket's device and works the ticket
    expect((await api<unknown[]>(tess, 'GET', '/api/alarms')).body).toHaveLength(1);
    expect((await api(tess, 'POST', `/api/tickets/${ticket.id}/transition`, { to: 'in_progress' })).status).toBe(200);
    await door(false);
    const resolved = await api<{ state: string }>(tess, 'POST', `/api/tickets/${ticket.id}/transition`, {
      to: 'resolved',
      resolutionCode: 'door-seal-replaced',
    });
    expect(resolved.body.state).toBe('resolved');
    expect((await api<unknown[]>(dee, 'GET', '/api/alarms?state=active')).body).toEqual([]);
    const closed = await waitFor(
      async () => {
        const t = (await api<{ ticket: { state: string; verifiedAt: number | null } }>(dee, 'GET', `/api/tickets/${ticket.id}`)).body.ticket;
        return t.state === 'closed' ? t : undefined;
      },
      10_000,
      'verified',
    );
    expect(closed.verifiedAt).toBeGreaterThan(0);
  }, 40_000);

  it('commands: succeeded, rejected by a protected rule (with its reason), timed out; a bulk job reports per-device progress', async () => {
    const send = (body: object) => api<{ requestId: string }>(dee, 'POST', '/api/commands', body);
    const result = (id: string) =>
      waitFor(
        async () => {
          const c = (await api<{ state: string; reason: string | null; sentAt: number | null }>(dee, 'GET', `/api/commands/${id}`)).body;
          return ['created', 'sent'].includes(c.state) ? undefined : c;
        },
        15_000,
        `command ${id}`,
      );
    const ok = await send({ gatewayId: 'gw-1', deviceRef: fridgeRef, attribute: 'setpoint', value: 5 });
    expect(ok.status).toBe(201);
    expect(await result(ok.body.requestId)).toMatchObject({ state: 'succeeded', reason: null });
    await waitFor(() => gw.running.hub.state.get('shop-fridge', 'setpoint') === 5, 5000, 'the fridge obeyed');
    const guarded = await send({ gatewayId: 'gw-1', deviceRef: plugRef, attribute: 'rl_1', value: false });
    const refused = await result(guarded.body.requestId);
    expect(refused.state).toBe('rejected');
    expect(refused.reason).toMatch(/protected rule "sign-on-when-closed"/);
    expect(refused.reason).not.toContain('shop-plug');
    const lost = await send({ gatewayId: 'gw-2', deviceRef: 'd-idle', attribute: 'setpoint', value: 3 });
    expect(await result(lost.body.requestId)).toMatchObject({ state: 'timed_out' });
    // gw-3 was seen once and is offline: its command waits, unsent, and expires
    const manifest = {
      v: 1,
      gatewayId: 'gw-3',
      at: 1,
      timeZone: 'UTC',
      devices: [{ deviceId: 'd-away', capabilities: ['setpoint'], commands: ['setpoint'], classes: [] }],
    };
    await f.fleet.db.transaction(async (tx) => {
      await storeMessage(tx, 'trellis/v1/gw-3/p/coolco/manifest', Buffer.from(JSON.stringify(manifest)), Date.now());
      await storeMessage(tx, 'trellis/v1/gw-3/status', Buffer.from(JSON.stringify({ v: 1, gatewayId: 'gw-3', state: 'offline' })), Date.now());
    });
    const away = await send({ gatewayId: 'gw-3', deviceRef: 'd-away', attribute: 'setpoint', value: 3, expiresInMinutes: 0.02 });
    expect(await result(away.body.requestId)).toMatchObject({ state: 'expired', sentAt: null });

    const job = await api<{ id: number; total: number }>(dee, 'POST', '/api/jobs', {
      name: 'setpoint 4 on every sim-fridge',
      attribute: 'setpoint',
      value: 4,
      filter: { model: 'sim-fridge' },
    });
    expect(job.status).toBe(201);
    expect(job.body.total).toBe(2);
    const progress = await waitFor(
      async () => {
        const p = (await api<{ done: number; states: Record<string, number> }>(dee, 'GET', `/api/jobs/${job.body.id}`)).body;
        return p.done === 1 ? p : undefined;
      },
      20_000,
      'the job done',
    );
    expect(progress.states).toEqual({ succeeded: 1, timed_out: 1 });
  }, 60_000);

  it('a technician asks the fridge for a diagnostic snapshot: current attributes and recent readings, recorded in the audit log', async () => {
    const asked = await api<{ requestId: string }>(admin, 'POST', '/api/diagnostics', { gatewayId: 'gw-1', deviceRef: fridgeRef });
    expect(asked.status).toBe(201);
    const d = await waitFor(
      async () => {
        const r = (
          await api<{ status: string | null; data: { attributes: Record<string, unknown>; readings: Array<{ attribute: string }>; online: boolean } }>(
            admin,
            'GET',
            `/api/diagnostics/${asked.body.requestId}`,
          )
        ).body;
        return r.status ? r : undefined;
      },
      10_000,
      'the snapshot',
    );
    expect(d.status).toBe('done');
    expect(d.data.online).toBe(true);
    expect(d.data.attributes).toMatchObject({ setpoint: 4, door: false });
    expect(d.data.readings.some((r) => r.attribute === 'temperature')).toBe(true);
    const audited = gw.running.db.prepare("SELECT actor, action FROM audit_log WHERE action = 'remote.diagnostic'").all();
    expect(audited).toEqual([{ actor: 'provider:coolco', action: 'remote.diagnostic' }]);
  }, 20_000);

  it("a day of usage lands hour for hour as the gateway stored it; a bucket lost on the way is found as a gap and filled by the gateway's resend", async () => {
    const cloud = gw.running.cloud;
    if (!cloud) throw new Error('no cloud sync');
    const day = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 2 * 24 * HOUR;
    const insert = gw.running.db.prepare<[string, number, number, string], { seq: number }>(
      'INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?) RETURNING seq',
    );
    gw.running.db.transaction(() => {
      for (let h = 0; h < 24; h++) {
        const start = day + h * HOUR;
        const bucket = {
          deviceId: 'shop-fridge',
          start,
          end: start + HOUR,
          localStart: new Date(start).toISOString(),
          metrics: { compressor: { role: 'on' as const, seconds: 600 + h, starts: 3, samples: 60 } },
          gaps: [],
          offlineSeconds: 0,
        };
        const { seq } = insert.get('shop-fridge', start, start + HOUR, JSON.stringify(bucket)) as { seq: number };
        cloud.queueUsage([{ ...bucket, seq }]);
      }
    })();
    const fleetRows = () =>
      f.fleet.db.query<{ start_at: number; data: { metrics: unknown; bucketSeq: number } }>(
        'SELECT start_at, data FROM usage_buckets WHERE device_ref = $1 AND start_at >= $2 AND start_at < $3 ORDER BY start_at',
        [fridgeRef, day, day + 24 * HOUR],
      );
    await waitFor(async () => (await fleetRows()).length === 24, 15_000, '24 buckets');
    const gatewayRows = gw.running.db
      .prepare("SELECT seq, start, data FROM usage_buckets WHERE device_id = 'shop-fridge' AND start >= ? AND start < ? ORDER BY start")
      .all(day, day + 24 * HOUR) as Array<{
      seq: number;
      start: number;
      data: string;
    }>;
    const same = (rows: Awaited<ReturnType<typeof fleetRows>>) => rows.map((r) => [r.start_at, r.data.bucketSeq, r.data.metrics]) as unknown[];
    expect(same(await fleetRows())).toEqual(gatewayRows.map((g) => [g.start, g.seq, (JSON.parse(g.data) as { metrics: unknown }).metrics]));

    await f.fleet.db.query('DELETE FROM usage_buckets WHERE device_ref = $1 AND start_at = $2', [fridgeRef, day + 7 * HOUR]); // lost on the way
    await waitFor(async () => (await fleetRows()).length === 24, 90_000, 'the gap filled by a resend');
    expect(same(await fleetRows())).toEqual(gatewayRows.map((g) => [g.start, g.seq, (JSON.parse(g.data) as { metrics: unknown }).metrics]));
    const [req] = await f.fleet.db.query<{ resent: number; not_covered: number }>('SELECT resent, not_covered FROM resend_requests');
    expect(req).toEqual({ resent: 1, not_covered: 0 });
  }, 120_000);

  it('a device that drops off: device.offline once its gateway has said so for the configured time, cleared when it is back', async () => {
    const fridgeAlarm = async () =>
      (await f.fleet.db.query<{ state: string }>("SELECT state FROM alarms WHERE code = 'device.offline' AND device_ref = $1 ORDER BY id DESC", [fridgeRef]))[0]
        ?.state;
    firmware.client.stream.destroy(); // no DISCONNECT: the gateway's broker publishes the fridge's last will
    await waitFor(async () => (await fridgeAlarm()) === 'active', 15_000, 'device.offline');
    const [row] = (
      await api<{ devices: Array<{ deviceRef: string; online: boolean; offlineSince: number }> }>(dee, 'GET', '/api/sites/gw-1')
    ).body.devices.filter((d) => d.deviceRef === fridgeRef);
    expect(row).toMatchObject({ online: false });
    expect(row?.offlineSince).toBeGreaterThan(0);
    firmware = await fridgeFirmware(gw.url, await gw.running.credentials.rotate('shop-fridge'));
    await waitFor(async () => (await fridgeAlarm()) === 'cleared', 15_000, 'cleared when back');
  }, 40_000);

  it('a grant revoked: the fleet shows access ended, and nothing more of the device arrives', async () => {
    const [grant] = gw.running.grants.active();
    gw.running.grants.revoke(grant?.id as number);
    const ended = await waitFor(
      async () => {
        const r = await api<{ devices: Array<{ access: string }> }>(dee, 'GET', '/api/sites/gw-1');
        return r.body.devices.every((d) => d.access === 'ended') ? r.body.devices : undefined;
      },
      10_000,
      'access ended',
    );
    expect(ended).toHaveLength(2);
    const before = await f.fleet.db.query('SELECT count(*)::int AS n FROM alerts');
    await door(true);
    await new Promise((r) => setTimeout(r, 2500)); // the door rule fires again on the gateway
    expect(gw.running.db.prepare("SELECT count(*) AS n FROM alerts WHERE message LIKE '%door held open%'").get()).toMatchObject({ n: 2 });
    expect(await f.fleet.db.query('SELECT count(*)::int AS n FROM alerts')).toEqual(before);
  }, 30_000);
});
