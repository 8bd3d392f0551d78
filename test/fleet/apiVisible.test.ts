import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visibleLags } from '../../bench/apiVisible.ts';
import { population, siteRecords } from '../../firmware-sim/fleetSim/population.ts';
import type { GatewayRecords, Wire } from '../../firmware-sim/fleetSim/records.ts';
import { storeBatch } from '../../fleet/ingest/batch.ts';
import { People } from '../../fleet/people.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestFleet, type TestFleet } from './testFleet.ts';

/**
 * bench:fleet's "publish -> visible in the API" probe against a real trellis-fleet's API: a record
 * "sent" and stored is seen, with a lag no shorter than the time it took to be stored, also when a
 * device sends again while its last record is still on its way (the probe must not take that one's
 * rise for the sample's); a record sent and never stored is not seen.
 */
const START = Date.UTC(2026, 10, 2);
const dirs = new TempDirs();
let f: TestFleet;
let token: string;
let wire: Wire[];

beforeAll(async () => {
  f = await startTestFleet(dirs);
  const fleet = population({ seed: 3, start: START, sites: 12, devicesPerSite: 8 });
  const { records, manifests } = siteRecords(fleet, 'coolco', START);
  await f.fleet.db.transaction((tx) =>
    storeBatch(
      tx,
      manifests.map((m) => ({ topic: m.topic, payload: Buffer.from(m.payload) })),
      START,
    ),
  );
  // each device's hours in turn, usage buckets only
  wire = [];
  for (let h = 0; h < 3; h++)
    for (const dev of fleet) {
      const out = dev.model.hour(START + h * 3_600_000);
      wire.push((records.get(dev.gatewayId) as GatewayRecords).hour(dev.deviceRef, { ...out, signals: [], alerts: [] })[0] as Wire);
    }
  await new People(f.fleet.db).add('probe', 'dispatcher', 'probe-password-1');
  token = await f.signIn('probe', 'probe-password-1');
}, 60_000);

afterAll(async () => {
  await f?.stop();
  dirs.cleanup();
});

/** "Sends" one record every `everyMs` (its time in `sentAt`), storing it after `storeAfterMs` unless `store` is false. */
async function sender(store: boolean, everyMs: number, storeAfterMs: number) {
  const sentAt = new Map<string, number>();
  const ids = wire.map((_, i) => `r${i}`);
  let sent = 0;
  const stores: Array<Promise<unknown>> = [];
  const sending = (async () => {
    for (let i = 0; i < wire.length; i++) {
      sentAt.set(ids[i] as string, Date.now());
      sent = i + 1;
      const w = wire[i] as Wire;
      if (store)
        stores.push(
          new Promise((r) => setTimeout(r, storeAfterMs)).then(() =>
            f.fleet.db.transaction((tx) => storeBatch(tx, [{ topic: w.topic, payload: Buffer.from(w.payload) }], Date.now())),
          ),
        );
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  // every store, also those pushed after the probe stopped looking
  const done = async () => {
    await sending;
    await Promise.all(stores);
  };
  return { sentAt, ids, sent: () => sent, done };
}

const month = new Date(START).toISOString().slice(0, 7);

/** From an empty table: `sender` at 100 records/s (one every 10 ms), the probe sampling one every 20 ms meanwhile. */
async function probe(store: boolean, storeAfterMs: number, looking: { timeoutMs: number; quietMs?: number }) {
  await f.fleet.db.exec('TRUNCATE usage_buckets');
  const s = await sender(store, 10, storeAfterMs);
  const v = await visibleLags({ apiUrl: f.fleet.apiUrl, token, month, wire, ids: s.ids, sentAt: s.sentAt, sent: s.sent, rate: 100, everyMs: 20, ...looking });
  await s.done();
  return v;
}

describe("bench:fleet's probe of publish -> visible in the API", () => {
  it('sees each sampled record once it is stored, no sooner than it was stored', async () => {
    const v = await probe(true, 40, { timeoutMs: 2_000 });
    expect(v.unseen).toBe(0);
    expect(v.lags.length).toBeGreaterThan(3);
    expect(v.lags[0]).toBeGreaterThanOrEqual(40);
    expect(v.lags.at(-1)).toBeLessThan(2_000);
  }, 60_000);

  it("does not take the rise of a device's earlier record, stored late, for the sample's", async () => {
    // each device sends every ~610 ms and its records are stored 700 ms after they are sent: an earlier
    // record's rise comes after the sample's baseline was read; only records of a quiet device are sampled
    const v = await probe(true, 700, { timeoutMs: 3_000, quietMs: 1_000 });
    expect(v.unseen).toBe(0);
    expect(v.lags.length).toBeGreaterThan(0);
    expect(v.lags[0]).toBeGreaterThanOrEqual(700);
  }, 60_000);

  it('counts a record that never reaches the database as unseen, not as seen', async () => {
    const v = await probe(false, 0, { timeoutMs: 150 });
    expect(v.lags).toEqual([]);
    expect(v.unseen).toBeGreaterThan(0);
  }, 60_000);
});
