import { connect } from 'node:net';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessHook, type Access } from '../../gateway/lan/auth.ts';
import type { People } from '../../gateway/store/people.ts';
import { HostCheck } from '../../gateway/net/names.ts';
import type { RouteEntry } from '../../gateway/lan/server.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { rawRequest } from '../helpers/rawHttp.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway } from '../helpers/testGateway.ts';
import { EventTickets } from '../../gateway/lan/tickets.ts';

/**
 * The LAN API as an attacker on the LAN tries it: every route the router knows x every kind of
 * caller x many spellings of its path. Generated from the route table, so a route added later is in
 * the matrix at once, and one that declares no access fails it.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let port: number;
let routes: RouteEntry[];
const RANK: Record<string, number> = { guest: 0, member: 1, owner: 2 };
type Caller = 'none' | 'garbage' | 'revoked' | 'guest' | 'member' | 'owner';
const CALLERS: Caller[] = ['none', 'garbage', 'revoked', 'guest', 'member', 'owner'];
const tokens: Record<Caller, string | undefined> = {
  none: undefined,
  garbage: 'x'.repeat(43),
  revoked: undefined,
  guest: undefined,
  member: undefined,
  owner: undefined,
};

beforeAll(async () => {
  gw = await startTestGateway({ lan: { authAttemptsPerMinute: 1000 } }, dirs);
  port = gw.running.lan?.address?.port as number;
  routes = gw.running.lan?.routes() ?? [];
  const api = lanClient(gw.lanUrl);
  tokens.owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive' })).body.token;
  for (const role of ['member', 'guest'] as const) {
    const code = (await api.post('/api/members/invite', { role }, tokens.owner)).body.code;
    tokens[role] = (await api.post('/api/pair', { code, name: `a-${role}` })).body.token;
  }
  const code = (await api.post('/api/members/invite', { role: 'member' }, tokens.owner)).body.code;
  const revoked = (await api.post('/api/pair', { code, name: 'gone' })).body.token;
  const me = (await api.get('/api/me', revoked)).body;
  expect((await api.del(`/api/sessions/${me.sessionId}`, revoked)).status).toBe(204);
  tokens.revoked = revoked;
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  dirs.cleanup();
});

/** A concrete path for a route: parameters get values that name nothing (so no handler changes anything). */
const concrete = (url: string) =>
  url
    .replace(/:id\b/g, '999999')
    .replace(/:file\b/g, 'none.mjs')
    .replace(/:[a-z]+/gi, 'x');
/** A body every route with one refuses (strict schemas: an unknown key), so allowed callers get 400, never an effect. */
const BODY = JSON.stringify({ matrixProbe: true });
const hasBody = (method: string) => method !== 'GET' && method !== 'HEAD';

function call(method: string, path: string, caller: Caller, headers: Record<string, string> = {}) {
  const token = tokens[caller];
  return rawRequest(port, method, path, { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, hasBody(method) ? BODY : undefined);
}

/** What a caller must get from a route (canonical path): refused (the status), or let through (not 401/403). */
function expected(access: Access, caller: Caller): 401 | 403 | 'through' {
  if (access === 'public') return 'through';
  if (caller === 'none' || caller === 'garbage' || caller === 'revoked') return 401;
  return (RANK[caller] as number) >= (RANK[access] as number) ? 'through' : 403;
}

/** Other ways to write the same path: each character percent-encoded (both hex cases), dot segments, slashes, `;`. */
function spellings(path: string): string[] {
  const out = new Set<string>();
  for (let i = 1; i < path.length; i++) {
    const hex = path.charCodeAt(i).toString(16).padStart(2, '0');
    for (const h of [hex.toLowerCase(), hex.toUpperCase()]) out.add(`${path.slice(0, i)}%${h}${path.slice(i + 1)}`);
  }
  const parts = path.split('/');
  out.add(`/${path}`); // //api/...
  out.add(path.replace(/\/([^/]*)$/, '//$1'));
  out.add(`/.${path}`);
  out.add(path.replace(/\/([^/]*)$/, '/./$1'));
  out.add(`${path}/`);
  out.add(`${path};x=1`);
  out.add(`/${parts[1]};x${path.slice(1 + (parts[1]?.length ?? 0))}`);
  out.add(`/ui/..${path}`);
  out.add(`/%2e${path}`);
  out.add(path.toUpperCase());
  out.add(`${path}?token=${tokens.owner}`); // a token in the URL never counts
  out.add(`${path}?ticket=x`); // a ticket counts only on a WebSocket upgrade
  out.delete(path);
  return [...out];
}

describe('LAN API auth matrix (generated from the route table)', () => {
  it('every route declares who may use it', () => {
    expect(routes.length).toBeGreaterThan(30);
    const undeclared = routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
    const mustBeClosed = ['/api/members', '/api/export', '/api/grants', '/api/erase', '/api/rules', '/api/events', '/metrics', '/api/devices/:id/commands'];
    for (const url of mustBeClosed) for (const r of routes.filter((x) => x.url === url)) expect(r.access, `${r.method} ${url}`).not.toBe('public');
  });

  it('every route x every caller answers as its declaration says', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      for (const caller of CALLERS) {
        const res = await call(r.method, concrete(r.url), caller);
        const want = expected(r.access as Access, caller);
        const ok = want === 'through' ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === want;
        if (!ok) wrong.push(`${r.method} ${r.url} as ${caller}: ${res.status} (wanted ${want})`);
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it('no spelling of a closed route lets a caller without the right role through', async () => {
    const leaks: string[] = [];
    let tried = 0;
    for (const r of routes) {
      if (r.access === 'public') continue;
      const path = concrete(r.url);
      for (const caller of ['none', 'guest'] as const) {
        const want = expected(r.access as Access, caller);
        if (want === 'through') continue;
        for (const p of spellings(path)) {
          tried++;
          const res = await call(r.method, p, caller);
          // the router may not know the spelling (404) or refuse it as a URL (400); it must never run the route
          if (res.status !== want && res.status !== 404 && res.status !== 400)
            leaks.push(`${r.method} ${p} as ${caller}: ${res.status} ${res.body.slice(0, 80)}`);
        }
      }
    }
    console.log(`auth matrix: ${tried} spellings of closed routes tried, ${leaks.length} let through`);
    expect(tried).toBeGreaterThan(1000);
    expect(leaks).toEqual([]);
  }, 120_000);

  it('the attacks from the issue: percent-encoded paths get what the real path gets', async () => {
    for (const [method, path] of [
      ['GET', '/%61pi/members'],
      ['GET', '/%61pi/export'],
      ['POST', '/%61pi/grants'],
      ['POST', '/%61pi/devices/x/commands'],
      ['PUT', '/%61pi/rules'],
      ['POST', '/%61pi/erase'],
      ['GET', '/%6detrics'],
    ] as const) {
      const res = await call(method, path, 'none');
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    const audit = gw.running.db.prepare("SELECT count(*) AS n FROM audit_log WHERE actor = 'anonymous'").get() as { n: number };
    expect(audit.n).toBe(0);
  });

  it('refuses a Host that is not the gateway (DNS rebinding), on every route, whoever asks', async () => {
    for (const r of routes) {
      for (const host of ['evil.example', 'evil.example:80', `attacker.test:${port}`, `127.0.0.1.evil.example:${port}`, 'localhost@evil.example']) {
        const res = await call(r.method, concrete(r.url), 'owner', { host });
        expect(res.status, `${r.method} ${r.url} Host ${host}`).toBe(421);
      }
    }
    // no Host at all: HTTP/1.1 requires one (Node answers 400); HTTP/1.0 may omit it, and is refused too
    for (const [version, status] of [
      ['1.1', 400],
      ['1.0', 421],
    ] as const) {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.end(`GET /api/health HTTP/${version}\r\n\r\n`));
        let text = '';
        s.on('data', (d) => (text += d.toString()));
        s.on('close', () => resolve(text));
        s.on('error', reject);
      });
      expect(reply.split('\r\n')[0], `HTTP/${version} without Host`).toContain(String(status));
    }
    expect((await call('GET', '/api/health', 'none', { host: `localhost:${port}` })).status).toBe(200);
    expect((await call('GET', '/api/health', 'none', { host: `[::1]:${port}` })).status).toBe(200);
  });

  it('the WebSocket: no ticket, a token in the URL, a used, revoked or foreign-origin ticket and an encoded path are refused; the own origin works', async () => {
    const open = (path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('error', () => resolve(-1));
      });
    const ticket = async (caller: Caller) => {
      const res = await call('POST', '/api/events/ticket', caller);
      return res.status === 200 ? (JSON.parse(res.body) as { ticket: string }).ticket : `refused-${res.status}`;
    };
    expect(await open('/api/events')).toBe(401);
    expect(await open(`/api/events?token=${tokens.guest}`)).toBe(401); // session tokens never travel in URLs
    expect(await ticket('revoked')).toBe('refused-401');
    expect(await ticket('none')).toBe('refused-401');
    expect(await open(`/api/events?ticket=${'x'.repeat(32)}`)).toBe(401);
    expect(await open(`/%61pi/events`)).toBe(401);
    expect(await open(`/api/events?ticket=${await ticket('guest')}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await open(`/api/events?ticket=${await ticket('guest')}`, { origin: `http://127.0.0.1:${port + 1}` })).toBe(403);
    expect(await open(`/api/events?ticket=${await ticket('guest')}`, { origin: `http://127.0.0.1:${port}` })).toBe(101);
    const once = await ticket('guest');
    expect(await open(`/api/events?ticket=${once}`)).toBe(101); // not a browser: no Origin
    expect(await open(`/api/events?ticket=${once}`)).toBe(401); // a ticket opens one socket
  });

  it('plain-object lookups are not doors: /vendor/constructor, __proto__, toString are 404, never 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await call('GET', `/vendor/${name}`, 'none');
      expect(res.status, name).toBe(404);
    }
  });
});

describe('default deny, on its own', () => {
  it('a route that declares no access refuses everyone, the owner too', async () => {
    const people = { authenticate: () => ({ user: { id: 1, name: 'Olive', role: 'owner' }, sessionId: 1 }) } as unknown as People;
    const app = Fastify();
    app.addHook('onRequest', accessHook(people, new HostCheck({ gatewayId: 't', extra: [], boundHosts: [] }), new EventTickets()));
    app.get('/api/new-thing', async () => ({ secret: true }));
    app.get('/api/declared', { config: { access: 'owner' } }, async () => ({ ok: true }));
    const headers = { authorization: 'Bearer anything', host: '127.0.0.1' };
    const undeclared = await app.inject({ method: 'GET', url: '/api/new-thing', headers });
    expect(undeclared.statusCode).toBe(403);
    expect(undeclared.json().message).toMatch(/declares no access/);
    expect((await app.inject({ method: 'GET', url: '/api/declared', headers })).statusCode).toBe(200);
    await app.close();
  });
});
