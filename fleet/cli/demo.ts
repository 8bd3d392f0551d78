import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { addBrokerAccount } from '../broker/embedded.ts';
import { fleetConfig } from '../config.ts';
import { People, PeopleError } from '../people.ts';
import { startFleet } from '../start.ts';

export interface DemoOptions {
  readonly dir?: string | undefined;
  readonly apiPort?: number | undefined;
  readonly brokerPort?: number | undefined;
  /** how many times faster than real time the demo's devices and, while it replays, the gateway's clock run */
  readonly speed?: number | undefined;
}

const PROVIDER = 'demo-service';
const REPLAY_HOURS = 6;
const GATEWAY = 'demo-shop';

/** The `trellis` command next to this one (bin/trellis.mjs of the same package): a file to run, not a module to import. */
const trellisBin = () =>
  [resolve(import.meta.dirname, '../../../bin/trellis.mjs'), resolve(import.meta.dirname, '../../bin/trellis.mjs')].find(existsSync) as string;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/**
 * `trellis-fleet demo`: both ends on loopback. A fleet for the provider `demo-service` (PGlite, the
 * embedded broker), and the gateway's demo home and shop as a `trellis start` child process whose
 * cloud sync goes to that broker, with a grant for the provider; prints where the owner's phone UI and
 * the provider's API are. Ctrl-C stops both. Data stays in `dir` (default ./trellis-fleet-demo-data),
 * so a second run carries on.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const dir = resolve(o.dir ?? 'trellis-fleet-demo-data');
  // a fresh demo replays the last hours fast, so the console has usage and signals within minutes
  const fresh = !existsSync(join(dir, 'gateway', 'data'));
  const speed = o.speed ?? 12;
  mkdirSync(join(dir, 'gateway'), { recursive: true, mode: 0o700 });
  const config = fleetConfig({
    provider: PROVIDER,
    dataDir: join(dir, 'fleet'),
    broker: { embedded: { host: '127.0.0.1', port: o.brokerPort ?? 18883, tls: true } },
    api: { host: '127.0.0.1', port: o.apiPort ?? 8480 },
    checks: { everySeconds: 2, gatewayOfflineMinutes: 3, deviceOfflineMinutes: 5 },
    tickets: {
      autoOpen: [
        { code: 'rule.dairy-fridge-door-alarm', title: 'Check the dairy fridge door', priority: 'high' },
        { code: 'maintenance.*', title: 'Inspect the device', priority: 'normal' },
      ],
      verifyAfterMinutes: 10,
    },
  });
  const log = pino({ level: process.env.TRELLIS_FLEET_LOG ?? 'warn', base: { app: 'trellis-fleet' } });
  const fleet = await startFleet(config, log);
  let gateway: ChildProcess | undefined;
  let stopping = false;
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
      const exited = new Promise((r) => gateway?.once('exit', r));
      gateway.kill('SIGINT');
      await exited;
    }
    await fleet.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    const people = new People(fleet.db);
    const demoUsers: string[] = [];
    for (const [name, role] of [
      ['dee', 'dispatcher'],
      ['tess', 'technician'],
    ] as const) {
      const password = randomBytes(9).toString('base64url');
      await people.add(name, role, password).then(
        () => demoUsers.push(`${role} "${name}" password ${password}`),
        (err: Error) => {
          if (!(err instanceof PeopleError)) throw err;
        },
      );
    }
    const password = randomBytes(18).toString('base64url');
    await addBrokerAccount(fleet.db, GATEWAY, password, Date.now());
    const gwDir = join(dir, 'gateway');
    writeFileSync(join(gwDir, 'cloud-password'), `${password}\n`, { mode: 0o600 });
    const gwConfig = join(gwDir, 'trellis.yaml');
    writeFileSync(
      gwConfig,
      [
        '# written by trellis-fleet demo at every start',
        'demo: true',
        ...(fresh ? [`demoClock: {speed: ${speed}, replayHours: ${REPLAY_HOURS}}`] : []),
        `gatewayId: ${GATEWAY}`,
        `dataDir: ${join(gwDir, 'data')}`,
        `rules: {file: ${join(gwDir, 'data', 'rules.yaml')}}`,
        `mqtt: {host: 127.0.0.1, port: ${await freePort()}, tlsPort: ${await freePort()}}`,
        `lan: {host: 127.0.0.1, port: ${await freePort()}}`,
        `cloud: {url: "${fleet.brokerUrl}", username: ${GATEWAY}, passwordFile: ${join(gwDir, 'cloud-password')}, ca: ${fleet.brokerCa}, protocol: 4, healthIntervalS: 30}`,
        '',
      ].join('\n'),
    );
    const trellis = (args: string[]) => spawnSync(process.execPath, [trellisBin(), ...args, '--config', gwConfig], { encoding: 'utf8' });
    const grants = trellis(['grant', 'list', '--json']);
    if (grants.status !== 0) throw new Error(`trellis grant list: ${grants.stderr}`);
    if (!grants.stdout.includes(`"${PROVIDER}"`)) {
      const added = trellis([
        'grant',
        'add',
        '--provider',
        PROVIDER,
        '--name',
        'Demo Service Co',
        '--devices',
        '*',
        '--classes',
        'usage,alerts,maintenance,health,telemetry',
        '--commands',
        'descale,setpoint',
      ]);
      if (added.status !== 0) throw new Error(`trellis grant add: ${added.stderr}`);
    }
    gateway = spawn(process.execPath, [trellisBin(), 'start', '--config', gwConfig], { stdio: ['ignore', 'inherit', 'inherit'] });
    gateway.once('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`trellis-fleet demo: the gateway exited (${code}); stopping\n`);
        void stop(1);
      }
    });
    process.stdout.write(
      [
        '',
        `Trellis Fleet demo: the provider "${PROVIDER}" sees the gateway "${GATEWAY}" (the demo home and shop, starting below).`,
        `  Provider console: ${fleet.apiUrl}/ (sign in as dee, the dispatcher, or tess, the technician, on a phone-sized window)`,
        `  Provider API: ${fleet.apiUrl}/api (OpenAPI at ${fleet.apiUrl}/api/openapi.json)`,
        ...(fleet.firstAdminPassword ? [`  admin "admin" password ${fleet.firstAdminPassword}`] : []),
        ...demoUsers.map((u) => `  ${u}`),
        ...(fleet.firstAdminPassword || demoUsers.length
          ? [`  (passwords are shown once; the data stays in ${dir})`]
          : [`  (users and data from an earlier run, in ${dir})`]),
        ...(fresh
          ? [
              `  The gateway replays the last ${REPLAY_HOURS} hours ${speed} times faster than real time (an hour every ${Math.round(3600 / speed)} s), then runs in real time:`,
              '  usage buckets and maintenance signals reach the console within minutes. Delete the data folder to replay again.',
            ]
          : []),
        `  Try: curl -s -X POST ${fleet.apiUrl}/api/login -H 'content-type: application/json' -d '{"name":"dee","password":"..."}'`,
        '',
      ].join('\n'),
    );
  } catch (err) {
    process.stderr.write(`trellis-fleet demo: ${(err as Error).message}\n`);
    await stop(1);
  }
}
