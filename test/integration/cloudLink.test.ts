import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudLink, type CloudLinkOptions } from '../../gateway/cloud/link.ts';
import { Outbox } from '../../gateway/store/outbox.ts';
import { openDb, type Db } from '../../gateway/store/db.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

const dirs = new TempDirs();
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  dirs.cleanup();
});

function link(url: string, extra: Partial<CloudLinkOptions> = {}): { link: CloudLink; db: Db } {
  const db = openDb(`${dirs.make()}/trellis.db`, { synchronous: 'normal' });
  const outbox = new Outbox(db, { gatewayId: 'gw', maxBytes: 1e6, now: Date.now });
  const l = new CloudLink(
    {
      url,
      gatewayId: 'gw',
      clientId: 'gw',
      protocol: 'auto',
      keepaliveS: 30,
      window: 10,
      backoff: { minMs: 100, maxMs: 400 },
      version: 'test',
      now: Date.now,
      ...extra,
    },
    outbox,
    pino({ level: 'silent' }),
    () => undefined,
  );
  cleanup.push(
    () => db.close(),
    () => l.stop(),
  );
  return { link: l, db };
}

describe('cloud link', () => {
  it('reconnects with exponential backoff up to its ceiling', async () => {
    // a "broker" that accepts and hangs up at once, and notes when each attempt came
    const attempts: number[] = [];
    const server: Server = createServer((socket) => {
      attempts.push(performance.now());
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const { port } = server.address() as { port: number };
    const { link: l } = link(`mqtt://127.0.0.1:${port}`, { protocol: 5, random: () => 1 }); // no jitter: full delays
    l.start();
    await waitFor(() => attempts.length >= 6, 10_000, 'six attempts');
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    // 100, 200, 400, 400, 400 ms: timers never fire early, so each gap is at least its delay
    expect(gaps.map((g, i) => g >= ([100, 200, 400, 400, 400][i] as number) - 2)).toEqual([true, true, true, true, true]);
    expect(gaps[0]).toBeLessThan(gaps[2] as number);
    expect(l.status()).toMatchObject({ connected: false, connects: 0 });
  });

  it('falls back to MQTT 3.1.1 when the broker does not speak MQTT 5 (aedes)', async () => {
    const broker: TestGateway = await startTestGateway({ mqtt: { allowAnonymous: true } }, dirs);
    cleanup.push(() => broker.stop());
    const { link: l } = link(broker.url);
    l.start();
    await waitFor(() => l.status().connected, 10_000, 'connected');
    expect(l.status().protocol).toBe(4);
  });
});
