import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { People } from '../../fleet/people.ts';
import { BIN, freePort, type GatewayProcess, spawnGateway } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { type FridgeFirmware, fridgeFirmware } from './fridgeFirmware.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * Two real `trellis` gateway processes (two shops), set up as an installer would with the CLI
 * (device credential, grant), each with a fridge's firmware on its broker, syncing over TLS into
 * trellis-fleet: both sites appear with their fridge; a door held open at one shop becomes an alarm
 * and a ticket for that shop's fridge only, which a technician resolves and the fleet verifies.
 */
const dirs = new TempDirs();
const PASSWORD = 'a long enough password';
const SITES = ['shop-1', 'shop-2'] as const;
let f: TestFleet;
const gateways: GatewayProcess[] = [];
const fridges = new Map<string, FridgeFirmware>();

const RULES = `rules:
  - id: fridge-door-open
    triggers: [{device: shop-fridge, attribute: door, to: true, for: 1s}]
    actions: [{notify: {message: "the fridge door is held open", severity: warning, device: shop-fridge}}]
`;

function trellis(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TRELLIS_CONFIG: '' } });
  if (r.status !== 0) throw new Error(`trellis ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  f = await startTestFleet(dirs, {
    broker: { embedded: { host: '127.0.0.1', port: 0, tls: true } },
    checks: { everySeconds: 0.2 },
    tickets: { autoOpen: [{ code: 'rule.fridge-door-open', title: 'fix the fridge door', priority: 'high' }], verifyAfterMinutes: 0.03 },
  });
  for (const site of SITES) {
    await addBrokerAccount(f.fleet.db, site, `${site}-secret`, Date.now());
    const dir = dirs.make(`trellis-${site}-`);
    writeFileSync(join(dir, 'pw'), `${site}-secret`);
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    const mqttPort = await freePort();
    const config = join(dir, 'trellis.yaml');
    writeFileSync(
      config,
      [
        `gatewayId: ${site}`,
        'timezone: Europe/Berlin',
        `dataDir: ${join(dir, 'data')}`,
        `rules: {file: ${join(dir, 'rules.yaml')}}`,
        `mqtt: {host: 127.0.0.1, port: ${mqttPort}}`,
        `lan: {host: 127.0.0.1, port: ${await freePort()}}`,
        `cloud: {url: "${f.fleet.brokerUrl}", username: ${site}, passwordFile: ${join(dir, 'pw')}, ca: ${f.fleet.brokerCa}, protocol: 4, backoffMinMs: 100, backoffMaxMs: 1000}`,
        '',
      ].join('\n'),
    );
    const password = /password:\s+(\S+)/.exec(trellis(['device', 'add', 'shop-fridge', '--config', config]))?.[1] as string;
    trellis(['grant', 'add', '--provider', 'coolco', '--devices', 'shop-fridge', '--classes', 'alerts,usage', '--config', config]);
    gateways.push(await spawnGateway(config));
    fridges.set(site, await fridgeFirmware(`mqtt://127.0.0.1:${mqttPort}`, password));
  }
  await new People(f.fleet.db).add('tess', 'technician', PASSWORD);
  await new People(f.fleet.db).add('dee', 'dispatcher', PASSWORD);
}, 90_000);

afterAll(async () => {
  for (const fw of fridges.values()) await fw.client.endAsync();
  for (const g of gateways) await g.stop();
  await f?.stop();
  dirs.cleanup();
});

describe('two shops into one fleet', () => {
  it('shows both sites with their fridge; a door held open at one becomes its ticket, resolved by a technician and verified', async () => {
    const dee = await f.signIn('dee', PASSWORD);
    const tess = await f.signIn('tess', PASSWORD);
    const sites = await waitFor(
      async () => {
        const r = await f.call<Array<{ gatewayId: string; state: string; devices: number }>>(dee, 'GET', '/api/sites');
        return r.body.length === 2 && r.body.every((s) => s.state === 'online' && s.devices === 1) ? r.body : undefined;
      },
      20_000,
      'both sites with their fridge',
    );
    expect(sites.map((s) => s.gatewayId)).toEqual(['shop-1', 'shop-2']);
    // the rules name a device that appears only once its firmware announced it: open the door until the rule is active
    const fw = fridges.get('shop-2') as FridgeFirmware;
    const ticket = await waitFor(
      async () => {
        await fw.door(false);
        await fw.door(true);
        const deadline = Date.now() + 4000;
        while (Date.now() < deadline) {
          const [t] = (await f.call<Array<{ id: number; gatewayId: string; deviceRef: string }>>(dee, 'GET', '/api/tickets')).body;
          if (t) return t;
          await new Promise((r) => setTimeout(r, 200));
        }
        return undefined;
      },
      30_000,
      'the ticket',
    );
    expect(ticket.gatewayId).toBe('shop-2');
    const [device] = (await f.call<{ devices: Array<{ deviceRef: string; model: string }> }>(dee, 'GET', '/api/sites/shop-2')).body.devices;
    expect(device).toMatchObject({ deviceRef: ticket.deviceRef, model: 'sim-fridge' });
    expect((await f.call<unknown[]>(dee, 'GET', '/api/alarms?gatewayId=shop-1')).body).toEqual([]);
    const [tessUser] = await f.fleet.db.query<{ id: number }>("SELECT id FROM users WHERE name = 'tess'");
    expect((await f.call(dee, 'POST', `/api/tickets/${ticket.id}/transition`, { to: 'assigned', assigneeId: tessUser?.id })).status).toBe(200);
    expect((await f.call(tess, 'POST', `/api/tickets/${ticket.id}/transition`, { to: 'in_progress' })).status).toBe(200);
    await fw.door(false);
    expect((await f.call(tess, 'POST', `/api/tickets/${ticket.id}/transition`, { to: 'resolved', resolutionCode: 'hinge-adjusted' })).status).toBe(200);
    await waitFor(
      async () =>
        (await f.call<{ ticket: { state: string; verifiedAt: number | null } }>(dee, 'GET', `/api/tickets/${ticket.id}`)).body.ticket.verifiedAt !== null,
      10_000,
      'verified',
    );
  }, 90_000);
});
