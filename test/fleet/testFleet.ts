import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { type FleetConfigInput, fleetConfig } from '../../fleet/config.ts';
import { type RunningFleet, startFleet } from '../../fleet/start.ts';
import type { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway } from '../helpers/testGateway.ts';

export interface TestFleet {
  readonly fleet: RunningFleet;
  readonly port: number;
  /** signs in; the bearer token */
  signIn(name: string, password: string): Promise<string>;
  /** a JSON request with an optional token: status and parsed body */
  call<T = unknown>(token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** A real trellis-fleet (startFleet) on PGlite in a temp dir, its API on a free loopback port; the embedded broker unless `broker` is given. */
export async function startTestFleet(dirs: TempDirs, input: FleetConfigInput = {}): Promise<TestFleet> {
  const config = fleetConfig({
    provider: 'coolco',
    dataDir: dirs.make('trellis-fleet-'),
    api: { host: '127.0.0.1', port: 0 },
    broker: { embedded: { host: '127.0.0.1', port: 0, tls: false } },
    ...input,
  });
  const fleet = await startFleet(config, pino({ level: 'silent' }));
  const port = Number(new URL(fleet.apiUrl).port);
  const call = async <T>(token: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${fleet.apiUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // CSV and other text stays text
    }
    return { status: res.status, body: parsed as T };
  };
  return {
    fleet,
    port,
    call,
    async signIn(name, password) {
      const r = await call<{ token: string }>(undefined, 'POST', '/api/login', { name, password });
      if (r.status !== 200) throw new Error(`sign-in of ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.token;
    },
    stop: () => fleet.stop(),
  };
}

/**
 * A test gateway whose cloud sync goes to `f`'s embedded broker (an account made for it), with
 * `rules` as its rule file: how a small provider's gateway is connected.
 */
export async function gatewayIntoFleet(f: TestFleet, dirs: TempDirs, o: { gatewayId: string; timezone: string; rules: string }): Promise<TestGateway> {
  const password = `${o.gatewayId}-secret`;
  await addBrokerAccount(f.fleet.db, o.gatewayId, password, Date.now());
  const dir = dirs.make(`trellis-${o.gatewayId}-`);
  writeFileSync(join(dir, 'pw'), password);
  writeFileSync(join(dir, 'rules.yaml'), o.rules);
  return startTestGateway(
    {
      gatewayId: o.gatewayId,
      timezone: o.timezone,
      rules: { file: join(dir, 'rules.yaml') },
      cloud: {
        url: f.fleet.brokerUrl as string,
        username: o.gatewayId,
        passwordFile: join(dir, 'pw'),
        ca: f.fleet.brokerCa as string,
        protocol: 4,
        backoffMinMs: 100,
        backoffMaxMs: 1000,
      },
    },
    dirs,
  );
}
