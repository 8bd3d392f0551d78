import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { population } from '../../firmware-sim/fleetSim/population.ts';
import { runFleet } from '../../firmware-sim/fleetSim/runFleet.ts';
import type { SimGateway } from '../../firmware-sim/fleetSim/simGateway.ts';
import { heldBuckets, simGateways, sitesOf } from '../../firmware-sim/fleetSim/sites.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * Simulated gateways on a clock 2,160 times faster than real time (three hours in five seconds)
 * into a real trellis-fleet (PGlite, embedded broker): health every simulated minute, each hour's
 * buckets at the hour, each exactly once, and the site's latest health in the API.
 */
const HOUR = 3_600_000;
const FROM = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const dirs = new TempDirs();
let f: TestFleet;
const gateways: SimGateway[] = [];

beforeAll(async () => {
  f = await startTestFleet(dirs);
  const fleet = population({ seed: 3, start: FROM, sites: 3 });
  for (const gatewayId of sitesOf(fleet)) await addBrokerAccount(f.fleet.db, gatewayId, `${gatewayId}-pw`, Date.now());
  const credentials = (gatewayId: string) => ({ username: gatewayId, password: `${gatewayId}-pw` });
  const url = f.fleet.brokerUrl as string;
  gateways.push(...(await simGateways(fleet, { url, provider: 'coolco', protocolVersion: 4, credentials }, FROM)));
}, 60_000);

afterAll(async () => {
  for (const g of gateways) await g.offline();
  await f?.stop();
  dirs.cleanup();
});

describe('the fleet simulator on a fast clock', () => {
  it('sends health every simulated minute and closes every hour, all of it stored once', async () => {
    const reached = await runFleet(gateways, { from: FROM + 30_000, forMs: 3 * HOUR, speed: 2160, tickMs: 20 });
    expect(reached).toBe(FROM + 30_000 + 3 * HOUR);
    const buckets = heldBuckets(gateways);
    expect(buckets).toBe(3 * gateways.reduce((a, g) => a + g.held.size, 0)); // three whole hours per device
    const count = async (table: string) => (await f.fleet.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n ?? 0;
    await waitFor(async () => (await count('usage_buckets')) === buckets && (await count('health')) === 3 * 180, 30_000, 'every record');
    const perSite = await f.fleet.db.query<{ g: string; n: number; first: number; last: number; off: number }>(
      'SELECT gateway_id AS g, count(*)::int AS n, min(at) AS first, max(at) AS last, count(*) FILTER (WHERE at % 60000 <> 0)::int AS off FROM health GROUP BY 1 ORDER BY 1',
    );
    expect(perSite.map((r) => [r.n, Number(r.first), Number(r.last), r.off])).toEqual(gateways.map(() => [180, FROM + 60_000, FROM + 3 * HOUR, 0]));
    const token = await f.signIn('admin', f.fleet.firstAdminPassword as string);
    const sites = await f.call<Array<{ gatewayId: string; healthAt: number; state: string }>>(token, 'GET', '/api/sites');
    expect(sites.body.map((s) => [s.gatewayId, Number(s.healthAt), s.state])).toEqual(gateways.map((g) => [g.records.gatewayId, FROM + 3 * HOUR, 'online']));
  }, 60_000);
});
