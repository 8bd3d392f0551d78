import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * Alerts to the owner's channels on the LAN: a webhook and an ntfy server (both HTTP servers on
 * loopback standing in for the real ones: the same requests reach them), a flaky one that fails twice
 * before it takes the message, and one that is down. A rule's notify reaches the channels whose
 * minimum severity it meets; retries deliver through failures; the app's status shows hosts only
 * (never a URL's secret) and the test button says which channel works.
 */
interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const dirs = new TempDirs();
const servers: Server[] = [];
let gw: TestGateway;
let owner: string;
const webhook: Seen[] = [];
const ntfy: Seen[] = [];
const flaky: Seen[] = [];
let flakyFailures = 0;

async function serve(record: Seen[], answer: () => number = () => 200): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      record.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = answer();
      res.end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const dir = dirs.make('trellis-notify-');
  const hook = await serve(webhook);
  const topic = await serve(ntfy);
  const shaky = await serve(flaky, () => (flakyFailures++ < 2 ? 500 : 200));
  const down = await serve([]);
  await new Promise<void>((r) => (servers.pop() as Server).close(() => r())); // nothing listens there now
  writeFileSync(
    join(dir, 'rules.yaml'),
    'rules:\n  - id: hello\n    triggers: [{start: true}]\n    actions: [{notify: {message: "The shop gateway is up", severity: info}}]\n',
  );
  gw = await startTestGateway(
    {
      gatewayId: 'shop-gw',
      rules: { file: join(dir, 'rules.yaml') },
      notify: {
        timeoutMs: 1000,
        channels: [
          { name: 'Home Assistant', type: 'webhook', url: `${hook}/api/webhook/trellis?secret=s3cr3t`, minSeverity: 'info' },
          { name: 'Phones', type: 'ntfy', url: `${topic}/shop-alerts`, token: 'tk_123', minSeverity: 'warning' },
          { name: 'Flaky', type: 'webhook', url: `${shaky}/hook`, minSeverity: 'critical' },
          { name: 'Down', type: 'webhook', url: `${down}/hook`, minSeverity: 'critical' },
        ],
      },
    },
    dirs,
  );
  const api = lanClient(gw.lanUrl);
  owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive', password: 'correct horse' })).body.token;
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  dirs.cleanup();
});

describe('notifications to the LAN', () => {
  it("delivers a rule's notify to the channels whose minimum severity it meets", async () => {
    const got = await waitFor(() => webhook[0], 10_000, 'the webhook called');
    expect(got.path).toBe('/api/webhook/trellis?secret=s3cr3t');
    expect(got.headers['content-type']).toBe('application/json');
    expect(JSON.parse(got.body)).toMatchObject({ gatewayId: 'shop-gw', severity: 'info', message: 'The shop gateway is up', source: 'rule', ruleId: 'hello' });
    expect(ntfy).toEqual([]); // info is below the phones' warning
  });

  it('sends a critical alert to ntfy with its priority and token, and through a flaky webhook by retrying', async () => {
    gw.running.alerts.raise({ source: 'maintenance', deviceId: 'fridge-1', severity: 'critical', message: 'Dairy fridge at 9 °C', at: Date.now() });
    const pushed = await waitFor(() => ntfy[0], 10_000, 'ntfy called');
    expect(pushed.path).toBe('/shop-alerts');
    expect(pushed.body).toBe('Dairy fridge at 9 °C');
    expect(pushed.headers).toMatchObject({ priority: '5', authorization: 'Bearer tk_123', title: 'Trellis shop-gw: critical' });
    await waitFor(() => flaky.length === 3, 15_000, 'the flaky webhook taking it on the third try');
    expect(JSON.parse((flaky[2] as Seen).body)).toMatchObject({ severity: 'critical', deviceId: 'fridge-1' });
    const status = (await lanClient(gw.lanUrl).get('/api/notify', owner)).body as Array<{
      name: string;
      where: string;
      sent: number;
      lastError: string | null;
    }>;
    expect(status.find((s) => s.name === 'Flaky')).toMatchObject({ sent: 1, lastError: null });
    const down = await waitFor(() => status.find((s) => s.name === 'Down' && s.lastError), 1, 'the down channel');
    expect(down.lastError).toMatch(/no answer \(ECONNREFUSED\)/);
    expect(JSON.stringify(status)).not.toContain('s3cr3t');
    expect(status.find((s) => s.name === 'Home Assistant')?.where).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('the test button sends to every channel and says which ones work', async () => {
    const res = await lanClient(gw.lanUrl).post('/api/notify/test', {}, owner);
    expect(res.status).toBe(200);
    const byName = Object.fromEntries((res.body as Array<{ name: string; ok: boolean; error: string | null }>).map((r) => [r.name, r]));
    expect(byName['Home Assistant']).toMatchObject({ ok: true });
    expect(byName.Phones).toMatchObject({ ok: true });
    expect(byName.Down).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(ntfy.at(-1)?.body).toMatch(/^A test from Trellis, sent by Olive/);
  });
});
