import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetDb, postgresDb } from '../../fleet/db/fleetDb.ts';
import { fleetConfig } from '../../fleet/config.ts';
import { FleetProcess } from '../../fleet/fleetProcess.ts';
import { IngestWorker } from '../../fleet/ingest/worker.ts';
import { CloudBroker } from '../../firmware-sim/cloud/cloudBroker.ts';
import { population } from '../../firmware-sim/fleetSim/population.ts';
import type { SimGateway } from '../../firmware-sim/fleetSim/simGateway.ts';
import { heldBuckets, simGateways } from '../../firmware-sim/fleetSim/sites.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { type DiskQuota, diskQuota } from '../helpers/diskQuota.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/**
 * A simulated fleet (12 sites, protocol-level gateways with device models) into two fleet processes
 * on PostgreSQL 15 through mosquitto, through a PostgreSQL restart mid-day and a site offline for six
 * hours that then sends its backlog, and then the database's disk quota full (its tables are on a
 * 64 MB filesystem of their own, filled to the last byte) while the sites go on closing hours. After
 * each, the fleet holds exactly the buckets the gateways closed (gap repair included), and the site's
 * offline alarm is one alarm.
 */
const HOUR = 3_600_000;
/** `npm run soak:fleet` runs this at a provider's size: FAULTS_SITES sites over FAULTS_HOURS hours (at least 24) */
const SITES = Number(process.env.FAULTS_SITES ?? 12);
const HOURS = Math.max(24, Number(process.env.FAULTS_HOURS ?? 24));
const SCALE = Math.max(1, (SITES * HOURS) / (12 * 24));
const START = Math.floor(Date.now() / HOUR) * HOUR - (HOURS + 6) * HOUR;
const dirs = new TempDirs();
let broker: CloudBroker;
let pg: TempPostgres;
let admin: FleetDb;
let quota: DiskQuota;
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
  admin = await postgresDb(pg.url);
  quota = await diskQuota(admin, pg.url, 'fleet', Math.ceil(64 * SCALE));
  db = await postgresDb(quota.url);
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
  const fleet = population({ seed: 21, start: START, sites: SITES });
  const credentials = () => ({ username: 'site', password: 'site-pw' });
  gateways.push(...(await simGateways(fleet, { url: broker.passwordUrl, ca, provider: 'coolco', credentials }, START)));
}, 90_000);

afterAll(async () => {
  for (const g of gateways) await g.offline();
  for (const p of processes) await p.stop();
  await db?.close();
  quota?.free();
  if (quota) {
    await admin.query('DROP DATABASE fleet');
    await admin.query('DROP TABLESPACE fleet');
    quota.unmount();
  }
  await admin?.close();
  pg?.stop();
  await broker?.stop();
  dirs.cleanup();
}, 60_000 * SCALE);

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
const held = () => heldBuckets(gateways);
const failedCommits = () => processes.reduce((a, p) => a + p.ingest.counters.failed, 0);

/** Every bucket the gateways hold is in the fleet's table once, and nothing else is; the count. */
async function expectExactlyOnce(): Promise<number> {
  await waitFor(async () => (await stored()) >= held(), 120_000 * SCALE, `all ${held()} buckets`).catch(async (err: Error) => {
    throw new Error(`${err.message} (${await stored()} stored)`);
  });
  await new Promise((r) => setTimeout(r, 1500)); // anything late or doubled would land now
  const rows = await db.query<{ g: string; d: string; start: number }>('SELECT gateway_id AS g, device_ref AS d, start_at AS start FROM usage_buckets');
  const expected = gateways
    .flatMap((g) => [...g.held.entries()].flatMap(([d, byHour]) => [...byHour.keys()].map((start) => `${g.records.gatewayId}/${d}/${start}`)))
    .sort();
  expect(rows.map((r) => `${r.g}/${r.d}/${r.start}`).sort()).toEqual(expected);
  return rows.length;
}

describe('the fleet through faults, fed by simulated gateways', () => {
  it('holds every bucket the gateways closed exactly once after a PostgreSQL restart and a six-hour outage with its backlog', async () => {
    const away = gateways[0] as SimGateway;
    let recovered: Promise<number> | undefined;
    for (let h = 0; h < HOURS; h++) {
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
    expect(failedCommits()).toBeGreaterThan(0); // the restart did meet commits
    const buckets = await expectExactlyOnce();
    const alarms = await db.query<{ code: string; state: string }>("SELECT code, state FROM alarms WHERE gateway_id = $1 AND code = 'gateway.offline'", [
      away.records.gatewayId,
    ]);
    expect(alarms).toEqual([{ code: 'gateway.offline', state: 'cleared' }]);
    const failed = failedCommits();
    console.log(
      `faults: ${buckets} buckets exactly once; ingest resumed ${recoveryMs} ms after the PostgreSQL restart; ${failed} commits failed (not acknowledged, sent again)`,
    );
    expect(recoveryMs).toBeLessThan(60_000);
  }, 240_000);

  it(
    'holds every bucket exactly once through a full disk quota: nothing is acknowledged that was not stored, and ingest resumes once there is room',
    async () => {
      const before = await stored();
      const failedBefore = failedCommits();
      // The hours after the first test's, until one is held back: the first refused commit may be a
      // table other than the buckets' (their rows may still fit in pages the table has), and what the
      // database frees meanwhile (a vacuum truncating a table) is taken again by filling each hour.
      let h = HOURS;
      const heldBack = async () => failedCommits() > failedBefore && (await stored()) < held();
      while (h < HOURS + 6) {
        // the hours up to the present
        quota.fill();
        for (const g of gateways) g.closeHour(START + h * HOUR);
        h++;
        await waitFor(async () => failedCommits() > failedBefore, 5_000, 'a commit refused for want of space').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 2000)); // the workers retry meanwhile, and are refused again
        if (await heldBack()) break;
      }
      expect(failedCommits()).toBeGreaterThan(failedBefore);
      expect(await stored()).toBeLessThan(held());
      const refused = failedCommits() - failedBefore;
      const freedAt = Date.now();
      quota.free();
      const buckets = await expectExactlyOnce();
      expect(buckets).toBeGreaterThan(before);
      const alarms = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM alarms WHERE code = 'gateway.offline' AND gateway_id = $1", [
        gateways[0]?.records.gatewayId,
      ]);
      expect(alarms[0]?.n).toBe(1); // no alarm raised again by the fault
      console.log(
        `faults: disk quota full for ${h - HOURS} closed hours, ${refused} commits refused (not acknowledged); all ${buckets} buckets exactly once ${Date.now() - freedAt} ms after space was freed`,
      );
    },
    180_000 * SCALE,
  );
});
