import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { freePort, type GatewayProcess, spawnGateway } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * A real `trellis` gateway process syncing into trellis-fleet (embedded broker over TLS), SIGKILLed:
 * the broker publishes its last will, and the fleet shows the site offline with a critical alarm
 * within 1.5x the keepalive; started again, the site is online and the alarm cleared.
 */
const dirs = new TempDirs();
const KEEPALIVE_S = 5;
let f: TestFleet;
let gateway: GatewayProcess | undefined;
let configFile: string;

beforeAll(async () => {
  f = await startTestFleet(dirs, { broker: { embedded: { host: '127.0.0.1', port: 0, tls: true } }, checks: { everySeconds: 0.2, gatewayOfflineMinutes: 10 } });
  await addBrokerAccount(f.fleet.db, 'gw-k', 'gw-k-secret', Date.now());
  const dir = dirs.make('trellis-gw-kill-');
  writeFileSync(join(dir, 'pw'), 'gw-k-secret');
  configFile = join(dir, 'trellis.yaml');
  writeFileSync(
    configFile,
    [
      'gatewayId: gw-k',
      `dataDir: ${join(dir, 'data')}`,
      `mqtt: {host: 127.0.0.1, port: ${await freePort()}}`,
      `lan: {host: 127.0.0.1, port: ${await freePort()}}`,
      'cloud:',
      `  url: ${f.fleet.brokerUrl}`,
      '  username: gw-k',
      `  passwordFile: ${join(dir, 'pw')}`,
      `  ca: ${f.fleet.brokerCa}`,
      '  protocol: 4',
      `  keepaliveS: ${KEEPALIVE_S}`,
      '  backoffMinMs: 100',
      '  backoffMaxMs: 1000',
      '',
    ].join('\n'),
  );
  gateway = await spawnGateway(configFile);
}, 60_000);

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await f?.stop();
  dirs.cleanup();
});

const siteState = async () => (await f.fleet.db.query<{ state: string | null }>("SELECT state FROM gateways WHERE gateway_id = 'gw-k'"))[0]?.state;
const alarm = async () =>
  (await f.fleet.db.query<{ state: string; severity: string }>("SELECT state, severity FROM alarms WHERE gateway_id = 'gw-k' AND code = 'gateway.offline'"))[0];

describe('a gateway process killed', () => {
  it('is offline with an alarm within 1.5x its keepalive, and online with the alarm cleared once it is back', async () => {
    await waitFor(async () => (await siteState()) === 'online', 15_000, 'the site online');
    const killedAt = Date.now();
    await gateway?.stop('SIGKILL');
    await waitFor(async () => (await alarm())?.state === 'active', KEEPALIVE_S * 1500, 'the offline alarm');
    expect(Date.now() - killedAt).toBeLessThan(KEEPALIVE_S * 1500);
    expect(await siteState()).toBe('offline');
    expect(await alarm()).toEqual({ state: 'active', severity: 'critical' });
    gateway = await spawnGateway(configFile);
    await waitFor(async () => (await siteState()) === 'online' && (await alarm())?.state === 'cleared', 15_000, 'online and cleared');
  }, 60_000);
});
