import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetDb } from '../../fleet/db/fleetDb.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { STREAMS_PER_PERSON } from '../../fleet/api/routes/live.ts';
import { People } from '../../fleet/people.ts';
import { rawRequest } from '../helpers/rawHttp.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { openLive } from './liveStream.ts';
import { alert } from './records.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * The console's live updates (GET /api/live) on both engines: a record stored by the ingest path and a
 * ticket opened through the API each
 * reach an open stream as a topic name; a manifest that changes nothing says nothing. Tried as an
 * outsider too: no token, a token in the URL, more streams than a person may hold, a stream after
 * sign-out. On PostgreSQL, two APIs on one database hear each other, and a listening connection cut
 * by the server comes back.
 */
const PASSWORD = 'a long enough password';
const dirs = new TempDirs();
let pg: TempPostgres | undefined;
afterAll(() => {
  pg?.stop();
  dirs.cleanup();
});

const manifest = (at: number, online: boolean) => ({
  v: 1,
  gatewayId: 'gw-1',
  at,
  timeZone: 'UTC',
  devices: [{ deviceId: 'dev-a', model: 'sim-fridge', capabilities: ['door'], commands: [], classes: ['alerts'], online }],
});

describe.each([
  ['PostgreSQL 15', async () => ({ database: { url: (pg ??= await startPostgres()).url } })],
  ['PGlite', async () => ({})],
])('live updates on %s', (_engine, database) => {
  let f: TestFleet;
  let dee: string;
  const store = (db: FleetDb, topic: string, payload: unknown) =>
    db.transaction((tx) => storeMessage(tx, topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)), Date.now()));

  beforeAll(async () => {
    f = await startTestFleet(dirs, await database());
    await new People(f.fleet.db).add('dee', 'dispatcher', PASSWORD);
    dee = await f.signIn('dee', PASSWORD);
  }, 60_000);
  afterAll(() => f?.stop());

  it('names alarms when an alert is stored, tickets when one is opened, and sites for a new gateway', async () => {
    const live = await openLive(f.fleet.apiUrl, dee);
    expect(live.status).toBe(200);
    const a = alert('gw-1', 1);
    await store(f.fleet.db, a.topic, a.payload);
    expect(await live.next('alarms')).toEqual(expect.arrayContaining(['alarms', 'sites']));
    const n = live.changes.length;
    expect((await f.call(dee, 'POST', '/api/tickets', { gatewayId: 'gw-1', title: 'look at it' })).status).toBe(201);
    await live.next('tickets', n);
    // topic names only: nothing of the alarm or the ticket travels on the stream
    expect(live.changes.flat().every((t) => /^[a-z]+$/.test(t))).toBe(true);
    live.close();
  });

  it('says nothing of a manifest that changes nothing, and names devices when one goes offline', async () => {
    const live = await openLive(f.fleet.apiUrl, dee);
    await store(f.fleet.db, 'trellis/v1/gw-1/p/coolco/manifest', manifest(10, true));
    await live.next('devices');
    const n = live.changes.length;
    await store(f.fleet.db, 'trellis/v1/gw-1/p/coolco/manifest', manifest(20, true)); // the 30-second repeat
    expect((await f.call(dee, 'POST', '/api/tickets', { gatewayId: 'gw-1', title: 'a marker' })).status).toBe(201);
    await live.next('tickets', n);
    expect(live.changes.slice(n).flat()).not.toContain('devices');
    await store(f.fleet.db, 'trellis/v1/gw-1/p/coolco/manifest', manifest(30, false));
    await live.next('devices', n);
    live.close();
  });

  it('refuses a stream without a token, with the token in the URL, and past the per-person cap; ends one at sign-out', async () => {
    expect((await rawRequest(f.port, 'GET', '/api/live')).status).toBe(401);
    expect((await rawRequest(f.port, 'GET', `/api/live?token=${dee}`)).status).toBe(401);
    expect((await rawRequest(f.port, 'GET', '/api/live', { authorization: 'Bearer garbage' })).status).toBe(401);
    const streams = [];
    for (let i = 0; i < STREAMS_PER_PERSON; i++) streams.push(await openLive(f.fleet.apiUrl, dee));
    expect(streams.map((s) => s.status)).toEqual(streams.map(() => 200));
    const over = await rawRequest(f.port, 'GET', '/api/live', { authorization: `Bearer ${dee}` });
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body).message).toMatch(/at most 8/);
    for (const s of streams) s.close();
    // the cap frees as streams close
    await waitFor(async () => (await rawRequest(f.port, 'GET', '/api/live', { authorization: `Bearer ${dee}` })).status === 200, 5000, 'a free slot');

    const token = await f.signIn('dee', PASSWORD);
    const live = await openLive(f.fleet.apiUrl, token);
    expect((await f.call(token, 'POST', '/api/logout')).status).toBe(204);
    // a sign-out notifies: the stream re-checks its token and ends (well before its 15 s heartbeat)
    await waitFor(() => live.ended(), 5000, 'the stream to end after sign-out');
  });
});

describe('live updates across two trellis-fleet APIs on one PostgreSQL database', () => {
  let a: TestFleet;
  let b: TestFleet;
  let dora: string;
  beforeAll(async () => {
    const database = { url: (pg ??= await startPostgres()).url };
    a = await startTestFleet(dirs, { database });
    b = await startTestFleet(dirs, { database });
    await new People(a.fleet.db).add('dora', 'dispatcher', PASSWORD);
    dora = await a.signIn('dora', PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it("tells a console on one API of a ticket opened through the other, and of an alarm the other's ingest stored", async () => {
    const live = await openLive(b.fleet.apiUrl, dora);
    expect((await a.call(dora, 'POST', '/api/tickets', { gatewayId: 'gw-1', title: 'from the other API' })).status).toBe(201);
    await live.next('tickets');
    const al = alert('gw-1', 2, 'from another worker');
    await a.fleet.db.transaction((tx) => storeMessage(tx, al.topic, Buffer.from(al.payload), Date.now()));
    await live.next('alarms');
    live.close();
  });

  it('listens again after the server cuts its connection, and tells consoles to reload everything', async () => {
    const live = await openLive(b.fleet.apiUrl, dora);
    const cut = await a.fleet.db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'");
    expect(cut.length).toBe(2); // each API's listening connection
    const all = await live.next('audit', 0, 15_000);
    expect(all).toEqual(expect.arrayContaining(['alarms', 'tickets', 'devices', 'sites', 'commands', 'people']));
    const n = live.changes.length;
    expect((await a.call(dora, 'POST', '/api/tickets', { gatewayId: 'gw-1', title: 'after the cut' })).status).toBe(201);
    await live.next('tickets', n);
    live.close();
  }, 30_000);
});
