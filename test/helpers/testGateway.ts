import { pino } from 'pino';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { configFromObject } from '../../gateway/config/load.ts';
import type { ConfigInput } from '../../gateway/config/schema.ts';
import { type Clock, scaledClock } from '../../gateway/clock.ts';
import { Gateway, type GatewayDeps, type RunningGateway } from '../../gateway/gateway.ts';
import { TempDirs } from './tempDir.ts';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly running: RunningGateway;
  readonly dir: string;
  readonly url: string;
  /** the LAN API's base URL (http://127.0.0.1:PORT) */
  readonly lanUrl: string;
  stop(): Promise<void>;
}

/**
 * A real-time gateway clock that starts at `hours` (UTC) of today, whenever the suite runs: for
 * tests of rules that act only in a time window (with `timezone: UTC` in the gateway's config).
 */
export function clockFromTodayAt(hours: number): Clock {
  return scaledClock(1, Math.floor(Date.now() / 86_400_000) * 86_400_000 + hours * 3_600_000);
}

/** A gateway on 127.0.0.1 port 0 with a temporary data dir (or `overrides.dataDir`, to start one again on the same data) and a silent logger. */
export async function startTestGateway(
  overrides: ConfigInput = {},
  dirs = new TempDirs(),
  clock?: Clock,
  advertiser?: GatewayDeps['advertiser'],
): Promise<TestGateway> {
  const dir = overrides.dataDir ?? dirs.make();
  const validated = configFromObject({
    rules: { file: `${dir}/rules.yaml` },
    ...overrides,
    dataDir: dir,
    mqtt: { host: '127.0.0.1', ...(overrides.mqtt ?? {}) },
    lan: { host: '127.0.0.1', ...(overrides.lan ?? {}) },
    store: { synchronous: 'normal', ...(overrides.store ?? {}) },
  }).config;
  // Port 0 (any free port) is for tests only; the config file schema wants a real port.
  const config = {
    ...validated,
    mqtt: { ...validated.mqtt, port: overrides.mqtt?.port ?? 0, tlsPort: overrides.mqtt?.tlsPort ?? 0 },
    lan: { ...validated.lan, port: overrides.lan?.port ?? 0 },
  };
  const gateway = new Gateway({ config, logger: pino({ level: 'silent' }), ...(clock ? { clock } : {}), ...(advertiser ? { advertiser } : {}) });
  const running = await gateway.start();
  return {
    gateway,
    running,
    dir,
    url: `mqtt://127.0.0.1:${running.mqttAddress.port}`,
    lanUrl: running.lan ? `${running.lan.url.split('://')[0]}://127.0.0.1:${running.lan.address?.port}` : '',
    async stop() {
      await gateway.stop();
      dirs.cleanup();
    },
  };
}

/** Connects an MQTT 3.1.1 client and resolves once connected; rejects with the CONNACK error. */
export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
/** `promise`, or an error naming `what` when it takes longer than `ms` (a hung step says which it was). */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function waitFor<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check(); // an async check (a database query) is awaited, never taken as truthy
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
