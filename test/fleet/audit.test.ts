import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAudit, redact } from '../../fleet/audit.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { People } from '../../fleet/people.ts';
import { rawRequest } from '../helpers/rawHttp.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { alert } from './records.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * The console's audit log: every route that changes something declares its audit name; what people
 * do (and what they were refused) is recorded with who, what, on what and the outcome, before the
 * answer leaves; secrets never reach it; nobody fills it without signing in; only an admin reads it.
 */
const PASSWORD = 'a long enough password';
const dirs = new TempDirs();
let f: TestFleet;
const t = {} as Record<'ada' | 'dee' | 'tess', string>;

interface Entry {
  actor: string;
  action: string;
  target: string;
  status: number;
  detail: { body?: Record<string, unknown>; refused?: string };
}
const audit = async (query = '') => (await f.call<Entry[]>(t.ada, 'GET', `/api/audit${query}`)).body;

beforeAll(async () => {
  f = await startTestFleet(dirs);
  const people = new People(f.fleet.db);
  await people.add('ada', 'admin', PASSWORD);
  await people.add('dee', 'dispatcher', PASSWORD);
  await people.add('tess', 'technician', PASSWORD);
  for (const name of ['ada', 'dee', 'tess'] as const) t[name] = await f.signIn(name, PASSWORD);
  const a = alert('gw-1', 1);
  await f.fleet.db.transaction((tx) => storeMessage(tx, a.topic, Buffer.from(a.payload), Date.now()));
}, 60_000);

afterAll(async () => {
  await f?.stop();
  dirs.cleanup();
});

describe('the audit log', () => {
  it('is declared by every route that changes something', () => {
    const changing = f.fleet.routes().filter((r) => !['GET', 'HEAD'].includes(r.method));
    expect(changing.length).toBeGreaterThanOrEqual(12);
    expect(changing.filter((r) => !r.audit).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it("records a dispatcher's and a technician's work, in order, with targets and outcomes", async () => {
    const [al] = (await f.call<Array<{ id: number }>>(t.dee, 'GET', '/api/alarms')).body;
    expect((await f.call(t.dee, 'POST', `/api/alarms/${al?.id}/ack`)).status).toBe(200);
    const opened = await f.call<{ id: number }>(t.dee, 'POST', '/api/tickets', { gatewayId: 'gw-1', alarmId: al?.id, title: 'Check the door' });
    expect(opened.status).toBe(201);
    const [tess] = await f.fleet.db.query<{ id: number }>("SELECT id FROM users WHERE name = 'tess'");
    expect((await f.call(t.dee, 'POST', `/api/tickets/${opened.body.id}/transition`, { to: 'assigned', assigneeId: tess?.id })).status).toBe(200);
    // a technician may not clear alarms: refused, and the refusal is recorded with its reason
    expect((await f.call(t.tess, 'POST', `/api/alarms/${al?.id}/clear`)).status).toBe(403);
    const log = (await audit()).slice(0, 4).reverse();
    expect(log.map((e) => [e.actor, e.action, e.target, e.status])).toEqual([
      ['dispatcher:dee', 'alarm.acknowledge', String(al?.id), 200],
      ['dispatcher:dee', 'ticket.open', String(opened.body.id), 201],
      ['dispatcher:dee', 'ticket.move', String(opened.body.id), 200],
      ['technician:tess', 'alarm.clear', String(al?.id), 403],
    ]);
    expect(log[2]?.detail.body).toMatchObject({ to: 'assigned', assigneeId: tess?.id });
    expect(log[3]?.detail.refused).toMatch(/needs the role admin or dispatcher/);
  });

  it('records sign-ins, failed ones with the name tried, and never a password', async () => {
    await f.signIn('dee', PASSWORD);
    expect((await f.call(undefined, 'POST', '/api/login', { name: 'mallory', password: 'guess-one' })).status).toBe(401);
    const bill = await f.call<{ id: number }>(t.ada, 'POST', '/api/users', { name: 'bill', role: 'billing', password: 'the new one is secret' });
    expect(bill.status).toBe(201);
    const log = await audit();
    expect(log.find((e) => e.action === 'session.signin' && e.status === 200)?.actor).toBe('dispatcher:dee');
    expect(log.find((e) => e.action === 'session.signin' && e.status === 401)?.actor).toBe('unknown:mallory');
    expect(log.find((e) => e.action === 'person.add')).toMatchObject({
      actor: 'admin:ada',
      target: String(bill.body.id),
      status: 201,
      detail: { body: { name: 'bill', role: 'billing' } },
    });
    const everything = JSON.stringify(await f.fleet.db.query('SELECT * FROM audit_log'));
    for (const secret of [PASSWORD, 'guess-one', 'the new one is secret', t.dee]) expect(everything).not.toContain(secret);
    expect(everything).toContain('(hidden)');
  });

  it('keeps out what nobody signed in did: 60 unauthenticated writes add no entry', async () => {
    const [{ n: before }] = (await f.fleet.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')) as [{ n: number }];
    for (let i = 0; i < 20; i++) {
      await rawRequest(f.port, 'POST', '/api/tickets', { 'content-type': 'application/json' }, '{}');
      await rawRequest(f.port, 'POST', '/api/alarms/1/clear', { authorization: 'Bearer garbage' }, '{}');
      await rawRequest(f.port, 'DELETE', '/api/users/1');
    }
    const [{ n: after }] = (await f.fleet.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')) as [{ n: number }];
    expect(after).toBe(before);
  });

  it('is read by an admin only, filtered by person and by kind of action', async () => {
    for (const who of [t.dee, t.tess]) expect((await f.call(who, 'GET', '/api/audit')).status).toBe(403);
    const dees = await audit('?actor=dee');
    expect(dees.length).toBeGreaterThanOrEqual(4);
    expect(dees.every((e) => e.actor === 'dispatcher:dee')).toBe(true);
    const tickets = await audit('?action=ticket');
    expect(tickets.map((e) => e.action).sort()).toEqual(['ticket.move', 'ticket.open']);
    expect(await audit('?limit=1')).toHaveLength(1);
  });

  it('bounds what it keeps of a body, and goes after its retention', async () => {
    const deep = redact({ a: { b: { c: { d: { e: 1 } } } }, long: 'x'.repeat(1000), list: Array.from({ length: 50 }, (_, i) => i), apiToken: 't' });
    expect(deep).toMatchObject({ a: { b: { c: { d: '…' } } }, apiToken: '(hidden)' });
    expect(((deep as { long: string }).long as string).length).toBeLessThanOrEqual(201);
    expect((deep as { list: number[] }).list).toHaveLength(20);
    const [{ n }] = (await f.fleet.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log')) as [{ n: number }];
    expect(await pruneAudit(f.fleet.db, 400, Date.now() + 401 * 86_400_000)).toBe(n);
    expect(await audit()).toEqual([]);
  });
});
