import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetDb, postgresDb } from '../../fleet/db/fleetDb.ts';
import { fleetConfig } from '../../fleet/config.ts';
import { FleetProcess } from '../../fleet/fleetProcess.ts';
import { IngestWorker } from '../../fleet/ingest/worker.ts';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { population } from '../../firmware-sim/fleetSim/population.ts';
import { SimGateway } from '../../firmware-sim/fleetSim/simGateway.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/**
 * A simulated fleet (12 sites, protocol-level gateways with device models) into two fleet processes
 * on PostgreSQL 15 through mosquitto, through a PostgreSQL restart mid-day and a site offline for six
 * hours that then sends its backlog. At the end the fleet holds exactly the buckets the gateways
 * closed (gap repair included), and the site's offline alarm is one alarm.
 */
const HOUR = 3_600_000;
const START = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR;
const dirs = new TempDirs();
let broker: CloudBroker;
let pg: TempPostgres;
let db: FleetDb;
const processes: FleetProcess[] = [];
const gateways: SimGateway[] = [];

beforeAll(async () => {
  broker = new CloudBroker({
    dir: dirs.make('trellis-faults-broker-'),
    users: { site: 'site-pw', coolco: 'cool' },
    certificateClients: [],
    passwordPort: await freePort(),
    certificatePort: await freePort(),
  });
  await broker.start();
  pg = await startPostgres();
  db = await postgresDb(pg.url);
  const ca = readFileSync(broker.certs.ca);
  for (const n of [1, 2]) {
    const p = new FleetProcess({
      db,
      ingest: new IngestWorker({
        db,
        url: broker.passwordUrl,
        provider: 'coolco',
        group: 'ingest',
        clientId: `coolco-${n}`,
        mqtt: { username: 'coolco', password: 'cool', ca },
      }),
      config: fleetConfig({ provider: 'coolco', checks: { everySeconds: 0.5, gapsEverySeconds: 1, gapSettleSeconds: 1, gatewayOfflineMinutes: 60 } }),
    });
    await p.start();
    processes.push(p);
  }
  const fleet = population({ seed: 21, start: START, sites: 12 });
  for (const gatewayId of new Set(fleet.map((d) => d.gatewayId))) {
    const g = new SimGateway({
      url: broker.passwordUrl,
      ca,
      username: 'site',
      password: 'site-pw',
      gatewayId,
      provider: 'coolco',
      devices: fleet.filter((d) => d.gatewayId === gatewayId),
    });
    await g.online(START);
    gateways.push(g);
  }
}, 90_000);

afterAll(async () => {
  for (const g of gateways) await g.offline();
  for (const p of processes) await p.stop();
  await db?.close();
  pg?.stop();
  await broker?.stop();
  dirs.cleanup();
});

/** the count, asked again when the question itself met a connection the restart ended */
async function stored(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_buckets'))[0]?.n ?? 0;
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
const held = () => gateways.reduce((a, g) => a + [...g.held.values()].reduce((b, m) => b + m.size, 0), 0);

describe('the fleet through faults, fed by simulated gateways', () => {
  it('holds every bucket the gateways closed exactly once after a PostgreSQL restart and a six-hour outage with its backlog', async () => {
    const away = gateways[0] as SimGateway;
    let recovered: Promise<number> | undefined;
    for (let h = 0; h < 24; h++) {
      if (h === 10) {
        await away.offline();
        await new Promise((r) => setTimeout(r, 2500)); // long enough for the fleet's offline check to see it
      }
      if (h === 16) await away.online(START + h * HOUR);
      for (const g of gateways) g.closeHour(START + h * HOUR);
      await new Promise((r) => setTimeout(r, 100));
      if (h === 8) {
        await waitFor(async () => (await stored()) > 0, 30_000, 'the first buckets');
        // while the gateways go on closing hours: commits in flight fail, unacknowledged, and come again
        const restartedAt = Date.now();
        recovered = pg.restart().then(async () => {
          const atRestart = await stored();
          await waitFor(async () => (await stored()) > atRestart, 60_000, 'ingest again after the restart');
          return Date.now() - restartedAt;
        });
      }
    }
    const recoveryMs = await (recovered as Promise<number>);
    expect(processes.reduce((a, p) => a + p.ingest.counters.failed, 0)).toBeGreaterThan(0); // the restart did meet commits
    await waitFor(async () => (await stored()) >= held(), 120_000, `all ${held()} buckets`);
    await new Promise((r) => setTimeout(r, 1500)); // anything late or doubled would land now
    const rows = await db.query<{ g: string; d: string; start: number; key: string }>(
      `SELECT gateway_id AS g, device_ref AS d, start_at AS start, data->>'bucketSeq' AS key FROM usage_buckets ORDER BY 1, 2, 3`,
    );
    const expected = gateways
      .flatMap((g) => [...g.held.entries()].flatMap(([d, byHour]) => [...byHour.keys()].map((start) => `${g.records.gatewayId}/${d}/${start}`)))
      .sort();
    expect(rows.map((r) => `${r.g}/${r.d}/${r.start}`).sort()).toEqual(expected);
    const alarms = await db.query<{ code: string; state: string }>("SELECT code, state FROM alarms WHERE gateway_id = $1 AND code = 'gateway.offline'", [
      away.records.gatewayId,
    ]);
    expect(alarms).toEqual([{ code: 'gateway.offline', state: 'cleared' }]);
    const failed = processes.reduce((a, p) => a + p.ingest.counters.failed, 0);
    console.log(
      `faults: ${rows.length} buckets exactly once; ingest resumed ${recoveryMs} ms after the PostgreSQL restart; ${failed} commits failed (not acknowledged, sent again)`,
    );
    expect(recoveryMs).toBeLessThan(60_000);
  }, 240_000);
});
