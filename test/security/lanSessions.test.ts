import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromObject } from '../../gateway/config/load.ts';
import { Gateway, type RunningGateway } from '../../gateway/gateway.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { rawRequest } from '../helpers/rawHttp.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/** Sessions end everywhere, the pairing code stays out of the log, and every response carries the security headers. */
const dirs = new TempDirs();
let gateway: Gateway;
let running: RunningGateway;
let api: ReturnType<typeof lanClient>;
let port: number;
let logText = '';
let owner = '';
let firstCodeValidMs = 0;

beforeAll(async () => {
  const dir = dirs.make();
  const loaded = configFromObject({
    dataDir: dir,
    rules: { file: `${dir}/rules.yaml` },
    mqtt: { host: '127.0.0.1' },
    lan: { host: '127.0.0.1', sessionRecheckS: 1 },
    store: { synchronous: 'normal' },
  }).config;
  const config = { ...loaded, mqtt: { ...loaded.mqtt, port: 0, tlsPort: 0 }, lan: { ...loaded.lan, port: 0 } };
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => ((logText += chunk.toString()), done()) });
  gateway = new Gateway({ config, logger: pino({ level: 'trace' }, sink) });
  running = await gateway.start();
  port = running.lan?.address?.port as number;
  api = lanClient(`http://127.0.0.1:${port}`);
  firstCodeValidMs = (running.db.prepare('SELECT expires_at AS e FROM pairing_codes WHERE created_by IS NULL').get() as { e: number }).e - Date.now();
  owner = (await api.post('/api/pair', { code: running.lan?.pairingCode, name: 'Olive' })).body.token;
});

afterAll(async () => {
  await gateway?.stop();
  dirs.cleanup();
});

async function member(name: string): Promise<{ token: string; id: number; sessionId: number }> {
  const code = (await api.post('/api/members/invite', { role: 'member' }, owner)).body.code;
  const paired = await api.post('/api/pair', { code, name });
  const me = (await api.get('/api/me', paired.body.token)).body;
  return { token: paired.body.token, id: me.user.id, sessionId: me.sessionId };
}

/** Opens the live-event socket and resolves with a promise of its close code. */
async function openSocket(token: string): Promise<{ closed: Promise<number>; ws: WebSocket }> {
  const { ticket } = (await api.post('/api/events/ticket', {}, token)).body as { ticket: string };
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?ticket=${ticket}`);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve()); // the hello
    ws.once('error', reject);
  });
  return { closed, ws };
}

describe('sessions end everywhere', () => {
  it('revoking a session closes its sockets at once', async () => {
    const m = await member('Max');
    const { closed } = await openSocket(m.token);
    const t0 = Date.now();
    expect((await api.del(`/api/sessions/${m.sessionId}`, owner)).status).toBe(204);
    expect(await closed).toBe(4001);
    expect(Date.now() - t0).toBeLessThan(1000); // at once, not at the next periodic check
  });

  it('a ticket issued before its session was revoked opens no socket', async () => {
    const m = await member('Tia');
    const { ticket } = (await api.post('/api/events/ticket', {}, m.token)).body as { ticket: string };
    expect((await api.del(`/api/sessions/${m.sessionId}`, owner)).status).toBe(204);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?ticket=${ticket}`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });

  it('removing a person closes every socket of theirs', async () => {
    const m = await member('Mia');
    const a = await openSocket(m.token);
    const b = await openSocket(m.token);
    expect((await api.del(`/api/members/${m.id}`, owner)).status).toBe(204);
    expect(await a.closed).toBe(4001);
    expect(await b.closed).toBe(4001);
  });

  it('a session ended outside the API (another process) is noticed by the periodic re-check', async () => {
    const m = await member('Moe');
    const { closed } = await openSocket(m.token);
    running.db.prepare('DELETE FROM sessions WHERE id = ?').run(m.sessionId); // as a CLI or a restore would
    expect(await closed).toBe(4001);
  });

  it('other sessions keep their sockets', async () => {
    const keep = await member('Kim');
    const drop = await member('Dan');
    const kept = await openSocket(keep.token);
    const dropped = await openSocket(drop.token);
    await api.del(`/api/sessions/${drop.sessionId}`, owner);
    expect(await dropped.closed).toBe(4001);
    expect(kept.ws.readyState).toBe(WebSocket.OPEN);
    kept.ws.close();
  });
});

describe('pairing code', () => {
  it('is not in the log, and is valid for 24 hours', async () => {
    const code = running.lan?.pairingCode as string;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    await waitFor(() => logText.includes('not paired yet'), 2000, 'the not-paired log line');
    expect(logText).not.toContain(code);
    expect(logText).not.toContain(code.replace('-', ''));
    expect(firstCodeValidMs).toBeGreaterThan(23.9 * 3_600_000); // it was a year
    expect(firstCodeValidMs).toBeLessThanOrEqual(24 * 3_600_000);
  });
});

describe('security headers on every response', () => {
  it('CSP, nosniff, frame-ancestors / X-Frame-Options and Referrer-Policy on pages, API answers, errors and refusals', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['GET', '/', {}],
      ['GET', '/app.js', {}],
      ['GET', '/api/health', {}],
      ['GET', '/api/devices', {}], // 401
      ['GET', '/no/such/thing', {}], // 404
      ['GET', '/api/health', { host: 'evil.example' }], // 421
    ];
    for (const [method, path, headers] of cases) {
      const r = await rawRequest(port, method, path, headers);
      const csp = String(r.headers['content-security-policy']);
      expect(csp, path).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).not.toContain('unsafe-inline');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['strict-transport-security']).toBeUndefined(); // would lock phones out of a self-signed certificate
    }
  });
});
