import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * The LAN API over real HTTP against a running gateway with simulated devices: every endpoint's
 * auth (401), roles (403), validation (400), limits (413, 429), and what it does.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let api: ReturnType<typeof lanClient>;
const tokens = { owner: '', member: '', guest: '' };
let rulesFile: string;

const RULES = `rules:
  - id: door-light
    name: Light the fridge when its door opens
    triggers: [{device: shop-fridge, attribute: door, to: true}]
    actions: [{set: {device: plug-1, attribute: rl_1, value: true}}]
  - id: keep-cold
    protected: true
    triggers: [{device: shop-fridge, attribute: temperature, above: 8}]
    actions: [{notify: {message: "Fridge too warm", severity: critical}}]
`;

beforeAll(async () => {
  const dir = dirs.make();
  rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, RULES);
  gw = await startTestGateway({ rules: { file: rulesFile }, lan: { authAttemptsPerMinute: 20 } }, dirs);
  api = lanClient(gw.lanUrl);
  fleet = await startSimFleet(
    gw,
    [
      { kind: 'fridge', node: 'shop-fridge', name: 'Fridge' },
      { kind: 'plug', node: 'plug-1', name: 'Plug' },
    ],
    { reportMs: 5_000 },
  );
  await waitFor(
    () => gw.running.registry.get('shop-fridge') && gw.running.registry.get('plug-1') && gw.running.rules.ruleCount === 2,
    5000,
    'devices and rules',
  );
}, 30_000);

afterAll(async () => {
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

describe('pairing and sign-in', () => {
  it('health is open to all; everything else needs a token', async () => {
    const health = await api.get('/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', paired: false, devices: { known: 2 } });
    for (const path of ['/api/devices', '/api/rules', '/api/alerts', '/api/diagnostics', '/api/me', '/api/openapi.json', '/metrics']) {
      const r = await api.get(path);
      expect(r.status, path).toBe(401);
      expect(r.body.message).toMatch(/sign in first/);
    }
    expect((await api.get('/api/devices', 'not-a-token')).status).toBe(401);
  });

  it('the first-start pairing code creates the owner, once', async () => {
    const code = gw.running.lan?.pairingCode as string;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect((await api.post('/api/pair', { code: 'AAAA-BBBB', name: 'Mallory' })).status).toBe(400);
    const paired = await api.post('/api/pair', { code: code.toLowerCase(), name: 'Olive', password: 'correct horse' });
    expect(paired.status).toBe(200);
    expect(paired.body.user).toMatchObject({ name: 'Olive', role: 'owner' });
    tokens.owner = paired.body.token;
    const again = await api.post('/api/pair', { code, name: 'Eve' });
    expect(again.status).toBe(400);
    expect(again.body.message).toBe('that code is unknown, used or expired');
    expect((await api.get('/api/health')).body.paired).toBe(true);
  });

  it('the owner invites a member and a guest; invites are one-time and names unique', async () => {
    const member = await api.post('/api/members/invite', { role: 'member' }, tokens.owner);
    expect(member.status).toBe(200);
    expect(member.body.url).toContain(`/#/pair?code=${member.body.code}`);
    const m = await api.post('/api/pair', { code: member.body.code, name: 'Max' });
    tokens.member = m.body.token;
    expect(m.body.user.role).toBe('member');
    const guestInvite = await api.post('/api/members/invite', { role: 'guest' }, tokens.owner);
    expect((await api.post('/api/pair', { code: guestInvite.body.code, name: 'Max' })).status).toBe(409);
    const g = await api.post('/api/pair', { code: (await api.post('/api/members/invite', { role: 'guest' }, tokens.owner)).body.code, name: 'Gus' });
    tokens.guest = g.body.token;
    expect(g.body.user.role).toBe('guest');
    expect((await api.post('/api/members/invite', { role: 'owner' }, tokens.owner)).status).toBe(400);
    expect((await api.post('/api/members/invite', { role: 'member' }, tokens.member)).status).toBe(403);
    expect((await api.get('/api/members', tokens.owner)).body.map((u: { name: string }) => u.name)).toEqual(['Olive', 'Max', 'Gus']);
  });

  it('signs in with the password from pairing; sign-ins are rate-limited per address (429)', async () => {
    const ok = await api.post('/api/login', { name: 'Olive', password: 'correct horse' });
    expect(ok.status).toBe(200);
    expect((await api.get('/api/me', ok.body.token)).body.user.name).toBe('Olive');
    expect((await api.post('/api/login', { name: 'Olive', password: 'guess' })).status).toBe(401);
    // Every request counts against lan.authAttemptsPerMinute (20 here), right or wrong; failures are
    // also slowed and then refused by the auth throttle (test/security/authFlood.test.ts).
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await api.post('/api/login', { name: 'Olive', password: 'correct horse' })).status);
    expect(statuses[0]).toBe(200);
    expect(statuses.at(-1)).toBe(429);
  });

  it('a revoked session and a removed person are signed out', async () => {
    const extra = await api.post('/api/pair', { code: (await api.post('/api/members/invite', { role: 'member' }, tokens.owner)).body.code, name: 'Temp' });
    const me = await api.get('/api/me', extra.body.token);
    expect(me.body.sessions).toHaveLength(1);
    expect((await api.del(`/api/sessions/${me.body.sessionId}`, tokens.member)).status).toBe(404); // not Max's session
    expect((await api.del(`/api/sessions/${me.body.sessionId}`, extra.body.token)).status).toBe(204);
    expect((await api.get('/api/me', extra.body.token)).status).toBe(401);
    const again = await api.post('/api/pair', { code: (await api.post('/api/members/invite', { role: 'guest' }, tokens.owner)).body.code, name: 'Temp2' });
    expect((await api.del(`/api/members/${again.body.user.id}`, tokens.owner)).status).toBe(204);
    expect((await api.get('/api/devices', again.body.token)).status).toBe(401);
    const ownerId = (await api.get('/api/me', tokens.owner)).body.user.id;
    const last = await api.del(`/api/members/${ownerId}`, tokens.owner);
    expect(last.status).toBe(409);
    expect(last.body.message).toBe('the last owner cannot be removed');
  });
});

describe('devices', () => {
  it('lists devices with live state; a guest may look', async () => {
    const r = await api.get('/api/devices', tokens.guest);
    expect(r.status).toBe(200);
    const plug = r.body.find((d: { id: string }) => d.id === 'plug-1');
    expect(plug).toMatchObject({ name: 'Plug', protocol: 'mqtt', online: true, room: null });
    expect(plug.attributes.rl_1).toMatchObject({ type: 'boolean', writable: true });
    expect((await api.get('/api/devices/nope', tokens.guest)).status).toBe(404);
  });

  it('a member switches the simulated plug; its firmware changes state', async () => {
    const sim = fleet.get('plug-1');
    const target = !(sim?.state as { on: boolean }).on;
    const r = await api.post('/api/devices/plug-1/commands', { attribute: 'rl_1', value: target }, tokens.member);
    expect(r.status).toBe(202);
    await waitFor(() => (sim?.state as { on: boolean }).on === target, 5000, 'plug switched');
    expect((await api.post('/api/devices/plug-1/commands', { attribute: 'rl_1', value: true }, tokens.guest)).status).toBe(403);
  });

  it('refuses bad commands with the field at fault, and keeps running', async () => {
    const wrongType = await api.post('/api/devices/plug-1/commands', { attribute: 'rl_1', value: { on: true } }, tokens.member);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toMatch(/^body\.value: /);
    const readOnly = await api.post('/api/devices/shop-fridge/commands', { attribute: 'temperature', value: 3 }, tokens.member);
    expect(readOnly).toMatchObject({ status: 400, body: { message: 'shop-fridge.temperature is read-only' } });
    const range = await api.post('/api/devices/shop-fridge/commands', { attribute: 'setpoint', value: 99 }, tokens.member);
    expect(range.body.message).toBe('shop-fridge.setpoint: 99 is outside -25..12');
    expect((await api.post('/api/devices/ghost/commands', { attribute: 'x', value: 1 }, tokens.member)).status).toBe(404);
    expect((await api.call('POST', '/api/devices/plug-1/commands', { token: tokens.member, raw: '{"attribute": "rl_1", ' })).status).toBe(400);
    expect((await api.post('/api/devices/plug-1/commands', { attribute: 'rl_1', value: true, extra: 1 }, tokens.member)).status).toBe(400);
    const huge = await api.call('PUT', '/api/rules', { token: tokens.owner, raw: JSON.stringify({ text: 'x'.repeat(1_100_000) }) });
    expect(huge.status).toBe(413);
    expect((await api.get('/api/health')).status).toBe(200);
  });

  it('puts a device in a room', async () => {
    const r = await api.patch('/api/devices/plug-1', { room: 'Shop floor' }, tokens.member);
    expect(r.body.room).toBe('Shop floor');
    expect((await api.get('/api/devices/plug-1', tokens.guest)).body.room).toBe('Shop floor');
    expect((await api.patch('/api/devices/plug-1', { room: 'x' }, tokens.guest)).status).toBe(403);
  });

  it('history is downsampled on the gateway and adds up to the stored readings', async () => {
    await waitFor(() => (gw.running.db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n > 20, 10_000, 'readings');
    gw.running.writer.flush();
    const to = Date.now() + 1000;
    const from = to - 3_600_000;
    const r = await api.get(`/api/devices/shop-fridge/history?attribute=temperature&from=${from}&to=${to}&points=4`, tokens.guest);
    expect(r.status).toBe(200);
    expect(r.body.unit).toBe('°C');
    expect(r.body.points.length).toBeGreaterThan(0);
    expect(r.body.points.length).toBeLessThanOrEqual(4);
    for (const p of r.body.points) expect(p.min <= p.mean && p.mean <= p.max).toBe(true);
    const series = gw.running.registry.get('shop-fridge')?.seriesIds.temperature;
    const stored = gw.running.db.prepare('SELECT count(*) AS n FROM readings WHERE series_id = ? AND ts >= ? AND ts < ?').get(series, from, to) as {
      n: number;
    };
    expect(r.body.points.reduce((s: number, p: { n: number }) => s + p.n, 0)).toBe(stored.n);
    expect((await api.get('/api/devices/shop-fridge/history?attribute=nope', tokens.guest)).status).toBe(404);
    expect((await api.get('/api/devices/shop-fridge/history?attribute=temperature&points=0', tokens.guest)).status).toBe(400);
  });

  it('usage returns the stored buckets and per-day totals', async () => {
    const bucket = (start: number, wh: number) => ({
      deviceId: 'plug-1',
      start,
      end: start + 3_600_000,
      localStart: `${new Date(start).toISOString().slice(0, 16)}+00:00`,
      metrics: { energy_total: { role: 'energy', unit: 'Wh', delta: wh, resets: 0, rollovers: 0, samples: 3 } },
      gaps: [],
      offlineSeconds: 0,
    });
    const day = Date.parse('2026-11-20T00:00:00Z');
    for (const [h, wh] of [
      [1, 100],
      [2, 50.5],
      [25, 7],
    ] as const) {
      const b = bucket(day + h * 3_600_000, wh);
      gw.running.db.prepare('INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?)').run(b.deviceId, b.start, b.end, JSON.stringify(b));
    }
    const r = await api.get(`/api/devices/plug-1/usage?from=${day}&to=${day + 2 * 86_400_000}`, tokens.guest);
    expect(r.status).toBe(200);
    expect(r.body.buckets).toHaveLength(3);
    expect(r.body.daily).toEqual([
      { day: '2026-11-20', totals: { energy_total: 150.5 } },
      { day: '2026-11-21', totals: { energy_total: 7 } },
    ]);
  });
});

describe('rules', () => {
  it('lists the rule file and its rules', async () => {
    const r = await api.get('/api/rules', tokens.guest);
    expect(r.body.text).toBe(RULES);
    expect(r.body.rules.map((x: { id: string; protected: boolean }) => [x.id, x.protected])).toEqual([
      ['door-light', false],
      ['keep-cold', true],
    ]);
  });

  it("refuses a broken edit with the checker's file:line problems and keeps the old rules", async () => {
    const broken = RULES.replace('attribute: door, to: true', 'attribute: dor, to: true');
    const r = await api.put('/api/rules', { text: broken }, tokens.owner);
    expect(r.status).toBe(400);
    expect(r.body.problems[0].where).toMatch(/^rules\.yaml:\d+:\d+$/);
    expect(r.body.problems[0].message).toContain('dor');
    expect((await api.get('/api/rules', tokens.guest)).body.text).toBe(RULES);
    expect((await api.put('/api/rules', { text: RULES }, tokens.member)).status).toBe(403);
  });

  it('saves a good edit, which the gateway activates', async () => {
    const more = `${RULES}  - id: too-warm
    triggers: [{device: shop-fridge, attribute: temperature, above: 10, for: 10m}]
    actions: [{notify: {message: "Fridge above 10 °C for 10 minutes"}}]
`;
    const r = await api.put('/api/rules', { text: more }, tokens.owner);
    expect(r.body).toEqual({ ok: true, count: 3 });
    expect(gw.running.rules.ruleCount).toBe(3);
  });

  it('a member may switch an ordinary rule off, not a protected one; the owner may', async () => {
    const off = await api.patch('/api/rules/door-light', { enabled: false }, tokens.member);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: 'door-light', enabled: false });
    const text = (await api.get('/api/rules', tokens.guest)).body.text as string;
    expect(text).toContain('enabled: false');
    expect(text).toContain('name: Light the fridge when its door opens'); // the rest is kept
    const refused = await api.patch('/api/rules/keep-cold', { enabled: false }, tokens.member);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('rule "keep-cold" is protected: only the owner may change it');
    expect((await api.patch('/api/rules/keep-cold', { enabled: false }, tokens.owner)).body.enabled).toBe(false);
    expect((await api.patch('/api/rules/keep-cold', { enabled: true }, tokens.owner)).body.enabled).toBe(true);
    expect((await api.patch('/api/rules/door-light', { enabled: true }, tokens.guest)).status).toBe(403);
    expect((await api.patch('/api/rules/ghost', { enabled: true }, tokens.owner)).status).toBe(404);
  });

  it('explains why a rule ran', async () => {
    await api.patch('/api/rules/door-light', { enabled: true }, tokens.member);
    const before = gw.running.rules.traces('door-light').length; // firings while it was off are traced too
    const fridge = fleet.get('shop-fridge');
    (fridge?.state as { doorOpen: boolean }).doorOpen = false;
    fridge?.report();
    await waitFor(() => gw.running.hub.state.get('shop-fridge', 'door') === false, 3000, 'door closed');
    (fridge?.state as { doorOpen: boolean }).doorOpen = true;
    fridge?.report();
    await waitFor(
      () => {
        const traces = gw.running.rules.traces('door-light');
        return traces.length > before && traces.at(-1)?.commands.length;
      },
      5000,
      'a new firing that switches the plug',
    );
    const traces = (await api.get('/api/rules/door-light/traces', tokens.guest)).body;
    expect(traces[0]).toMatchObject({ trigger: expect.stringContaining('door'), commands: ['plug-1.rl_1 = true'] });
    expect((await api.get('/api/rules', tokens.guest)).body.rules.find((x: { id: string }) => x.id === 'door-light').lastFiredAt).toBeGreaterThan(0);
  });
});

describe('alerts, diagnostics, metrics, OpenAPI, live events', () => {
  it('alerts, newest first', async () => {
    gw.running.alerts.raise({ source: 'gateway', severity: 'warning', message: 'disk nearly full', at: Date.now() });
    const r = await api.get('/api/alerts?limit=1', tokens.guest);
    expect(r.body).toEqual([expect.objectContaining({ message: 'disk nearly full', severity: 'warning', source: 'gateway' })]);
    expect((await api.get('/api/alerts?limit=0', tokens.guest)).status).toBe(400);
  });

  it('diagnostics for self-service troubleshooting', async () => {
    const r = await api.get('/api/diagnostics', tokens.guest);
    expect(r.body.health.devices).toEqual({ known: 2, online: 2 });
    expect(r.body.health.drivers.mqtt.messages).toBeGreaterThan(0);
    expect(r.body.cloud).toEqual({ configured: false, connected: false, protocol: null, lastError: null, nextAttemptInMs: null });
    expect(r.body.rules).toEqual({ active: 3, problems: null });
  });

  it('Prometheus metrics', async () => {
    const r = await api.get('/metrics', tokens.guest);
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(r.text).toContain('trellis_devices{state="known"} 2');
    expect(r.text).toMatch(/trellis_driver_counter\{driver="mqtt",counter="messages"\} [1-9]/);
    expect(r.text).toContain('trellis_process_resident_memory_bytes');
    // the registry is made at the first scrape (prom-client loads lazily); later scrapes reuse it
    const again = await api.get('/metrics', tokens.guest);
    expect(again.status).toBe(200);
    expect(again.text).toContain('trellis_devices{state="known"} 2');
  });

  it('an OpenAPI document covering every route', async () => {
    const doc = (await api.get('/api/openapi.json', tokens.guest)).body;
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/pair',
      '/api/login',
      '/api/me',
      '/api/devices',
      '/api/devices/{id}',
      '/api/devices/{id}/commands',
      '/api/devices/{id}/history',
      '/api/devices/{id}/usage',
      '/api/rules',
      '/api/rules/{id}',
      '/api/rules/{id}/traces',
      '/api/alerts',
      '/api/health',
      '/api/diagnostics',
      '/api/members',
      '/api/members/invite',
      '/metrics',
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(doc.paths['/api/devices/{id}/commands'].post.requestBody.content['application/json'].schema.required).toEqual(['attribute', 'value']);
  });

  it('streams live readings over a WebSocket; refuses one without a token', async () => {
    const wsUrl = gw.lanUrl.replace('http', 'ws');
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}/api/events`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(refused).toBe(401);
    const { ticket } = (await api.post('/api/events/ticket', {}, tokens.guest)).body as { ticket: string };
    const ws = new WebSocket(`${wsUrl}/api/events?ticket=${ticket}`);
    const events: Array<{ type: string; deviceId?: string; attribute?: string }> = [];
    ws.on('message', (m) => events.push(JSON.parse(String(m))));
    try {
      await waitFor(() => events.some((e) => e.type === 'hello'), 5000, 'hello');
      fleet.get('shop-fridge')?.report();
      await waitFor(() => events.some((e) => e.type === 'reading' && e.deviceId === 'shop-fridge' && e.attribute === 'temperature'), 5000, 'live reading');
    } finally {
      ws.close();
    }
  });
});

describe('privacy: grants, audit, export, erase', () => {
  it('only the owner manages grants; adding and revoking are audited', async () => {
    expect((await api.get('/api/grants', tokens.member)).status).toBe(403);
    const bad = await api.post('/api/grants', { provider: 'coolco', devices: [], classes: ['usage'] }, tokens.owner);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^body\.devices: /);
    const unknownClass = await api.post('/api/grants', { provider: 'coolco', devices: ['*'], classes: ['secrets'] }, tokens.owner);
    expect(unknownClass.status).toBe(400);
    const g = await api.post(
      '/api/grants',
      { provider: 'coolco', providerName: 'Cool Co', devices: ['shop-fridge', 'tag:fridges'], classes: ['usage', 'maintenance'], commands: ['setpoint'] },
      tokens.owner,
    );
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({ providerId: 'coolco', identity: false, revokedAt: null, commands: ['setpoint'] });
    const listed = await api.get('/api/grants', tokens.owner);
    expect(listed.body.providers).toEqual([{ id: 'coolco', name: 'Cool Co' }]);
    expect((await api.del(`/api/grants/${g.body.id}`, tokens.member)).status).toBe(403);
    expect((await api.del(`/api/grants/${g.body.id}`, tokens.owner)).status).toBe(204);
    expect((await api.del(`/api/grants/${g.body.id}`, tokens.owner)).status).toBe(404);
    const audit = await api.get('/api/audit?limit=5', tokens.owner);
    expect(audit.body.verified).toEqual({ ok: true, rows: expect.any(Number) });
    expect(audit.body.entries.slice(0, 2).map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['grant.revoke', 'owner:Olive'],
      ['grant.add', 'owner:Olive'],
    ]);
    expect((await api.get('/api/audit', tokens.member)).status).toBe(403);
  });

  it('LAN writes are in the audit log', async () => {
    const actions = ((await api.get('/api/audit?limit=1000', tokens.owner)).body.entries as Array<{ action: string; actor: string; subject: string }>).map(
      (e) => `${e.action} ${e.actor} ${e.subject}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'lan.pair owner:Olive Olive',
        'lan.command member:Max plug-1',
        'lan.device.update member:Max plug-1',
        'lan.rule.enabled member:Max door-light',
        expect.stringMatching(/^lan\.rules\.replace owner:Olive /),
        'lan.member.invite owner:Olive null',
      ]),
    );
  });

  it('tags a device so grants can name it by tag', async () => {
    const r = await api.patch('/api/devices/shop-fridge', { tags: ['fridges'] }, tokens.member);
    expect(r.body.tags).toEqual(['fridges']);
    expect(
      gw.running.grants.covers(
        { id: 0, providerId: 'x', devices: ['tag:fridges'], classes: [], commands: [], identity: false, expiresAt: null, createdAt: 0, revokedAt: null },
        'shop-fridge',
      ),
    ).toBe(true);
    expect((await api.patch('/api/devices/shop-fridge', { tags: ['Not OK'] }, tokens.member)).status).toBe(400);
  });

  it("exports a zip for the owner (audited), and erases a device's history", async () => {
    const zip = await fetch(`${gw.lanUrl}/api/export`, { headers: { authorization: `Bearer ${tokens.owner}` } });
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(zip.headers.get('content-disposition')).toMatch(/^attachment; filename="trellis-export-\d{4}-\d{2}-\d{2}\.zip"$/);
    const bytes = new Uint8Array(await zip.arrayBuffer());
    expect([...bytes.slice(0, 2)]).toEqual([0x50, 0x4b]); // "PK"
    expect((await api.get('/api/export', tokens.member)).status).toBe(403);
    // the simulated plug keeps reporting: count what was stored before the erase
    const before = Date.now();
    const count = () =>
      (
        gw.running.db
          .prepare("SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = 'plug-1' AND r.ts < ?")
          .get(before) as { n: number }
      ).n;
    gw.running.writer.flush();
    expect(count()).toBeGreaterThan(0);
    const erased = await api.post('/api/erase', { deviceId: 'plug-1', before }, tokens.owner);
    expect(erased.status).toBe(200);
    expect(erased.body.readings).toBeGreaterThan(0);
    expect(count()).toBe(0);
    const last = (await api.get('/api/audit?limit=2', tokens.owner)).body.entries.map((e: { action: string }) => e.action);
    expect(last).toEqual(['erase', 'export']);
  });
});
