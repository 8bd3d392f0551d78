import { pino } from 'pino';
import { type FleetConfigInput, fleetConfig } from '../../fleet/config.ts';
import { type RunningFleet, startFleet } from '../../fleet/start.ts';
import type { TempDirs } from '../helpers/tempDir.ts';

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
