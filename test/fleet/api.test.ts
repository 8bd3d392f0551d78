import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../../fleet/api/context.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { People, ROLES, type Role } from '../../fleet/people.ts';
import { openTicket } from '../../fleet/tickets.ts';
import { rawRequest } from '../helpers/rawHttp.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * The fleet API's door, tried the way an outsider and each role would: every route of the route
 * table without a token, with a garbage one, with each role's; a technician reaching for another's
 * ticket, the billing figures or a device not in its tickets; encoded paths; sign-in flooding; a
 * token after sign-out and after its user is removed.
 */
const dirs = new TempDirs();
let f: TestFleet;
const tokens = {} as Record<Role | 'tom', string>;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  f = await startTestFleet(dirs, { api: { host: '127.0.0.1', port: 0, signInPerMinute: 30 } });
  const db = f.fleet.db;
  const people = new People(db);
  for (const [name, role] of [
    ['ada', 'admin'],
    ['dee', 'dispatcher'],
    ['tess', 'technician'],
    ['tom', 'technician'],
    ['bill', 'billing'],
  ] as const)
    await people.add(name, role, PASSWORD);
  for (const [key, name] of [
    ['admin', 'ada'],
    ['dispatcher', 'dee'],
    ['technician', 'tess'],
    ['tom', 'tom'],
    ['billing', 'bill'],
  ] as const)
    tokens[key] = await f.signIn(name, PASSWORD);
  const manifest = {
    v: 1,
    gatewayId: 'gw-1',
    at: 1,
    timeZone: 'Europe/Berlin',
    devices: ['dev-a', 'dev-b'].map((deviceId) => ({
      deviceId,
      model: 'sim-fridge',
      capabilities: ['door', 'power'],
      commands: ['power'],
      classes: ['usage'],
    })),
  };
  await db.transaction((tx) => storeMessage(tx, 'trellis/v1/gw-1/p/coolco/manifest', Buffer.from(JSON.stringify(manifest)), 1000));
  const [tess] = await db.query<{ id: number }>("SELECT id FROM users WHERE name = 'tess'");
  await db.transaction(async (tx) => {
    const t = await openTicket(tx, { gatewayId: 'gw-1', deviceRef: 'dev-a', title: 'inspect door', priority: 'high' }, sla, 'test', 1000);
    await tx.query("UPDATE tickets SET state = 'assigned', assignee_id = $2 WHERE id = $1", [t.id, tess?.id]);
  });
}, 60_000);

const sla = {
  critical: { acknowledgeMinutes: 1, resolveMinutes: 2 },
  high: { acknowledgeMinutes: 1, resolveMinutes: 2 },
  normal: { acknowledgeMinutes: 1, resolveMinutes: 2 },
  low: { acknowledgeMinutes: 1, resolveMinutes: 2 },
};

afterAll(async () => {
  await f?.stop();
  dirs.cleanup();
});

/** A route's URL with parameters that exist (gw-1) or do not (ids): the walk must change nothing. */
const concrete = (url: string) => url.replace(':gatewayId', 'gw-1').replace(':deviceRef', 'dev-a').replace(':requestId', 'c-x').replace(':id', '999999');
const closed = () => f.fleet.routes().filter((r) => r.access !== 'public' && r.method !== 'HEAD');

describe('fleet API access', () => {
  it('every route declares who may call it', () => {
    const undeclared = f.fleet.routes().filter((r) => r.access === undefined && r.method !== 'HEAD');
    expect(undeclared).toEqual([]);
    expect(closed().length).toBeGreaterThan(20);
  });

  it('refuses every closed route without a token, with a garbage token, and in encoded spellings: 401, never 2xx', async () => {
    let tried = 0;
    for (const r of closed()) {
      const path = concrete(r.url);
      const spellings = [
        path,
        path.replace('/api/', '/%61pi/'),
        path.replace('/api/', '/API/'),
        `${path}/`,
        path.replace('/api/', '/api//'),
        `${path}?token=x`,
      ];
      for (const p of spellings) {
        for (const headers of [{}, { authorization: 'Bearer garbage' }, { authorization: `Basic ${tokens.admin}` }] as Array<Record<string, string>>) {
          const res = await rawRequest(f.port, r.method, p, headers, r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}');
          tried++;
          expect(res.status, `${r.method} ${p} ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(400);
          if (p === path) expect(res.status, `${r.method} ${p}`).toBe(401);
        }
      }
    }
    expect(tried).toBeGreaterThan(300);
  });

  it('lets each role through exactly the routes that name it (403 for the rest)', async () => {
    for (const role of ROLES) {
      for (const r of closed().filter((x) => x.url !== '/api/logout')) {
        const res = await rawRequest(
          f.port,
          r.method,
          concrete(r.url),
          { authorization: `Bearer ${tokens[role]}` },
          r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}',
        );
        const allowed = (r.access as Exclude<Access, 'public'>).includes(role);
        if (allowed) expect(res.status, `${role} ${r.method} ${r.url}`).not.toBe(403);
        else expect(res.status, `${role} ${r.method} ${r.url}`).toBe(403);
        expect(res.status, `${role} ${r.method} ${r.url}`).not.toBe(401);
      }
    }
  });

  it("keeps a technician to its own tickets and their devices: not another's ticket, not billing, not other devices", async () => {
    const mine = await f.call<Array<{ id: number }>>(tokens.technician, 'GET', '/api/tickets');
    expect(mine.status).toBe(200);
    expect(mine.body.map((t) => t.id)).toEqual([1]);
    expect((await f.call<unknown[]>(tokens.tom, 'GET', '/api/tickets')).body).toEqual([]);
    expect((await f.call(tokens.tom, 'GET', '/api/tickets/1')).status).toBe(404);
    expect((await f.call(tokens.tom, 'POST', '/api/tickets/1/transition', { to: 'in_progress' })).status).toBe(404);
    for (const path of ['/api/usage?month=2026-12', '/api/usage.csv?month=2026-12', '/api/usage/gaps', '/api/sites', '/api/reports/tickets'])
      expect((await f.call(tokens.technician, 'GET', path)).status, path).toBe(403);
    const other = { gatewayId: 'gw-1', deviceRef: 'dev-b', attribute: 'power', value: false };
    expect((await f.call(tokens.technician, 'POST', '/api/commands', other)).status).toBe(403);
    expect((await f.call(tokens.technician, 'POST', '/api/diagnostics', { gatewayId: 'gw-1', deviceRef: 'dev-b' })).status).toBe(403);
    expect((await f.call(tokens.technician, 'POST', '/api/commands', { ...other, deviceRef: 'dev-a' })).status).toBe(201);
    expect((await f.call(tokens.technician, 'GET', '/api/sites/gw-1/devices/dev-b')).status).toBe(403);
    expect((await f.call(tokens.technician, 'GET', '/api/sites/gw-1/devices/dev-a')).status).toBe(200);
    // and may not assign: that is the dispatcher's
    expect((await f.call(tokens.technician, 'POST', '/api/tickets/1/transition', { to: 'assigned', assigneeId: 1 })).status).toBe(403);
  });

  it('billing reads usage and sites, not tickets or commands', async () => {
    expect((await f.call(tokens.billing, 'GET', '/api/usage?month=2026-12')).status).toBe(200);
    expect((await f.call(tokens.billing, 'GET', '/api/sites')).status).toBe(200);
    expect((await f.call(tokens.billing, 'GET', '/api/tickets')).status).toBe(403);
    expect((await f.call(tokens.billing, 'POST', '/api/commands', { gatewayId: 'gw-1', deviceRef: 'dev-a', attribute: 'power', value: true })).status).toBe(
      403,
    );
  });

  it('names the field and the source of a bad request', async () => {
    const r = await f.call<{ message: string }>(tokens.dispatcher, 'POST', '/api/tickets', { gatewayId: 'gw-1', title: '', priority: 'urgent' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^body\.(title|priority)/);
    const m = await f.call<{ message: string }>(tokens.billing, 'GET', '/api/usage?month=12-2026');
    expect(m.body.message).toBe('querystring.month: expected a month as YYYY-MM');
    const big = await rawRequest(
      f.port,
      'POST',
      '/api/tickets',
      { authorization: `Bearer ${tokens.dispatcher}` },
      JSON.stringify({ title: 'x'.repeat(300_000) }),
    );
    expect(big.status).toBe(413);
  });

  it('opens a ticket from an alarm (once: a second is a conflict) and clears an alarm by hand', async () => {
    const { raiseAlarm } = await import('../../fleet/alarms.ts');
    const a = await f.fleet.db.transaction((tx) =>
      raiseAlarm(tx, { gatewayId: 'gw-1', deviceRef: 'dev-b', code: 'maintenance.drift', severity: 'warning', message: 'drifting', at: 5000 }),
    );
    const body = { gatewayId: 'gw-1', alarmId: a.id, title: 'Check the drift', priority: 'normal' };
    const t = await f.call<{ deviceRef: string; alarmCode: string }>(tokens.dispatcher, 'POST', '/api/tickets', body);
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({ deviceRef: 'dev-b', alarmCode: 'maintenance.drift' });
    expect((await f.call(tokens.dispatcher, 'POST', '/api/tickets', body)).status).toBe(409);
    expect((await f.call(tokens.dispatcher, 'POST', '/api/tickets', { ...body, alarmId: 999999 })).status).toBe(400);
    expect((await f.call(tokens.technician, 'POST', `/api/alarms/${a.id}/clear`)).status).toBe(403);
    const cleared = await f.call<{ state: string }>(tokens.dispatcher, 'POST', `/api/alarms/${a.id}/clear`);
    expect(cleared.body.state).toBe('cleared');
  });

  it("shows a site's invalid records to operations, with the reason naming the field", async () => {
    await f.fleet.db.transaction((tx) => storeMessage(tx, 'trellis/v1/gw-1/p/coolco/health', Buffer.from('{"v":2}'), 2000));
    const r = await f.call<Array<{ topic: string; reason: string; payload: string }>>(tokens.dispatcher, 'GET', '/api/sites/gw-1/invalid');
    expect(r.status).toBe(200);
    expect(r.body[0]).toMatchObject({ topic: 'trellis/v1/gw-1/p/coolco/health', payload: '{"v":2}', reason: expect.stringMatching(/^v: /) });
    expect((await f.call(tokens.technician, 'GET', '/api/sites/gw-1/invalid')).status).toBe(403);
  });

  it('a token stops working at sign-out, and when its user is removed', async () => {
    const t = await f.signIn('dee', PASSWORD);
    expect((await f.call(t, 'GET', '/api/me')).status).toBe(200);
    expect((await f.call(t, 'POST', '/api/logout')).status).toBe(204);
    expect((await f.call(t, 'GET', '/api/me')).status).toBe(401);
    const added = await f.call<{ id: number }>(tokens.admin, 'POST', '/api/users', { name: 'temp', role: 'dispatcher', password: PASSWORD });
    expect(added.status).toBe(201);
    const temp = await f.signIn('temp', PASSWORD);
    expect((await f.call(tokens.admin, 'DELETE', `/api/users/${added.body.id}`)).status).toBe(204);
    expect((await f.call(temp, 'GET', '/api/me')).status).toBe(401);
  });

  it('refuses a wrong password as it refuses an unknown name, and slows a flood of sign-ins (429)', async () => {
    const wrong = await f.call<{ message: string }>(undefined, 'POST', '/api/login', { name: 'dee', password: 'nope-nope-nope' });
    const unknown = await f.call<{ message: string }>(undefined, 'POST', '/api/login', { name: 'nobody', password: 'nope-nope-nope' });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body).toEqual(unknown.body);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await f.call(undefined, 'POST', '/api/login', { name: 'dee', password: 'nope-nope-nope' })).status);
    expect(statuses).toContain(429);
  }, 60_000);

  it('keeps /api/health open, with no data in it', async () => {
    const h = await f.call<Record<string, unknown>>(undefined, 'GET', '/api/health');
    expect(h.status).toBe(200);
    expect(Object.keys(h.body).sort()).toEqual(['engine', 'ingest', 'ingestFailing', 'schema', 'status', 'version']);
    expect(h.body).toMatchObject({ status: 'ok', ingestFailing: null });
  });
});
