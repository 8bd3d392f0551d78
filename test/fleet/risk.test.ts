import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayOf, serviceDue } from '../../bench/maintenanceEval.ts';
import { type FleetDb, pgliteDb } from '../../fleet/db/fleetDb.ts';
import { migrate } from '../../fleet/db/migrations.ts';
import { storeBatch } from '../../fleet/ingest/batch.ts';
import { insertSignals, insertUsage, type UsageRow } from '../../fleet/ingest/bulk.ts';
import { RISK_CODE, riskRanking, scoreRisk } from '../../fleet/jobs/risk.ts';
import { deviceDays, keepDays } from '../../fleet/jobs/riskDays.ts';
import { DEFAULT_TICKET_RULE } from '../../fleet/maintenance/risk.ts';
import { slaDefaults } from '../../fleet/config.ts';
import type { HourOut } from '../../firmware-sim/fleetSim/model.ts';
import { population, siteRecords } from '../../firmware-sim/fleetSim/population.ts';
import type { GatewayRecords, Wire } from '../../firmware-sim/fleetSim/records.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/**
 * Predictive maintenance on the fleet's own tables: a small simulated fleet (shops' fridges and
 * espresso machines, some fridges losing refrigerant) sends its records through the ingest path,
 * the risk round scores each day, and a leaking fridge gets its ticket before it fails while the
 * healthy ones get none.
 */
const DAY = 86_400_000;
const START = Date.UTC(2026, 5, 1);
const DAYS = 34;
const dirs = new TempDirs();
let db: FleetDb;
const fleet = population({ seed: 4, start: START, sites: 12, leakShare: 0.35, sealShare: 0, scalingShare: 0, onsetDays: [4, 8] });
const failedOn = new Map<string, number>();
/** the first fridge's and the first espresso machine's hours, per day */
const sampled = [fleet.find((d) => d.model.kind === 'fridge'), fleet.find((d) => d.model.kind === 'coffee_machine')];
const samples = new Map<string, Map<number, HourOut[]>>();
/** each espresso machine's outstanding descale request at each day's end, as the evaluation reads it from the records */
const dues = new Map<string, Array<number | undefined>>();

beforeAll(async () => {
  db = await pgliteDb(join(dirs.make('trellis-risk-'), 'pglite'));
  await migrate(db);
  const { records: gateways, manifests } = siteRecords(fleet, 'coolco', START);
  await db.transaction((tx) =>
    storeBatch(
      tx,
      manifests.map((m) => ({ topic: m.topic, payload: Buffer.from(m.payload) })),
      START,
    ),
  );
  for (let d = 0; d < DAYS; d++) {
    const wire: Wire[] = [];
    for (const dev of fleet) {
      if (failedOn.has(dev.key)) continue;
      const hours = Array.from({ length: 24 }, (_, h) => dev.model.hour(START + d * DAY + h * 3_600_000));
      if (hours.some((h) => h.failed)) failedOn.set(dev.key, d);
      if (sampled.includes(dev)) samples.set(dev.key, (samples.get(dev.key) ?? new Map()).set(d, hours));
      if (dev.model.kind === 'coffee_machine') {
        const list = dues.get(dev.key) ?? [];
        dues.set(dev.key, [...list, serviceDue(hours, list.at(-1))]);
      }
      for (const h of hours) wire.push(...(gateways.get(dev.gatewayId) as GatewayRecords).hour(dev.deviceRef, h));
    }
    const { outcomes } = await db.transaction((tx) =>
      storeBatch(
        tx,
        wire.map((w) => ({ topic: w.topic, payload: Buffer.from(w.payload) })),
        START + (d + 1) * DAY,
      ),
    );
    expect(outcomes.filter((o) => !o.stored)).toEqual([]);
    if (d >= 21) await db.transaction((tx) => scoreRisk(tx, slaDefaults, START + (d + 1) * DAY + 3_600_000));
  }
}, 240_000);

afterAll(async () => {
  await db?.close();
  dirs.cleanup();
});

describe('the risk round on the fleet tables', () => {
  it("aggregates a device's day from the stored signals and buckets as the evaluation does from the simulator's records", async () => {
    const stored = await deviceDays(db, START + 9 * DAY, START + 11 * DAY);
    for (const dev of sampled) {
      if (!dev) throw new Error('the simulated fleet has no fridge or no espresso machine');
      const got = stored.find((r) => r.key === dev.key && r.day === START + 10 * DAY);
      const expected = dayOf(dev.key, dev.model.model, START + 10 * DAY, samples.get(dev.key)?.get(10) as HourOut[]);
      expect(got?.model).toBe(expected.model);
      expect(expected.warmth).toBeGreaterThan(0);
      for (const f of ['duty', 'dutyPeak', 'recovery', 'energyPerUnit', 'warmth', 'dutyAtRest', 'dutyPerUnit', 'peakUnits'] as const) {
        if (expected[f] === undefined) expect(got?.[f], `${dev.model.kind} ${f}`).toBeUndefined();
        else expect(got?.[f], `${dev.model.kind} ${f}`).toBeCloseTo(expected[f] as number, 6);
      }
    }
    // the espresso machine's cups give it a line of duty against units; a fridge counts nothing
    const [fridge, espresso] = sampled.map((dev) => stored.find((r) => r.key === dev?.key && r.day === START + 10 * DAY));
    expect(fridge?.dutyPerUnit).toBeUndefined();
    expect(espresso?.dutyPerUnit).toBeGreaterThan(0);
    expect(espresso?.peakUnits).toBeGreaterThan(0);
  });

  it("reads each day's outstanding service request (descale) from the stored signals as the evaluation does from the records", async () => {
    const stored = await deviceDays(db, START, START + DAYS * DAY);
    let outstanding = 0;
    let answered = 0;
    for (const [key, list] of dues)
      list.forEach((expected, d) => {
        const got = stored.find((r) => r.key === key && r.day === START + d * DAY);
        expect(got, `${key} day ${d}`).toBeDefined();
        expect(got?.serviceDueSince, `${key} day ${d}`).toBe(expected);
        if (expected !== undefined) outstanding++;
        if (d > 0 && list[d - 1] !== undefined && expected === undefined) answered++;
      });
    // the healthy machines ask to be descaled, wait a few days, and are descaled
    expect(outstanding).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    // a later window: a request raised before it is still read as raised then
    let fromBefore = 0;
    for (const later of [20, 27]) {
      const window = await deviceDays(db, START + later * DAY, START + DAYS * DAY);
      for (const [key, list] of dues)
        for (let d = later; d < list.length; d++) {
          const expected = list[d];
          expect(window.find((r) => r.key === key && r.day === START + d * DAY)?.serviceDueSince, `${key} day ${d} from ${later}`).toBe(expected);
          if (expected !== undefined && expected <= START + later * DAY) fromBefore++;
        }
    }
    expect(fromBefore).toBeGreaterThan(0);
  });

  it('tickets a leaking fridge before it fails, and no healthy device', async () => {
    const leaking = fleet.filter((d) => d.degradation?.kind === 'refrigerant_leak' && (failedOn.get(d.key) ?? 99) > 22 && (failedOn.get(d.key) ?? 99) < DAYS);
    expect(leaking.length).toBeGreaterThan(0);
    const tickets = await db.query<{ g: string; d: string; created_at: number; notes: string }>(
      'SELECT gateway_id AS g, device_ref AS d, created_at, notes FROM tickets WHERE alarm_code = $1',
      [RISK_CODE],
    );
    const ticketed = new Map(tickets.map((t) => [`${t.g}/${t.d}`, t]));
    const healthy = fleet.filter((d) => !d.degradation);
    expect(healthy.filter((d) => ticketed.has(d.key)).map((d) => d.key)).toEqual([]);
    const caught = leaking.filter((d) => {
      const t = ticketed.get(d.key);
      return t !== undefined && t.created_at < START + (failedOn.get(d.key) as number) * DAY;
    });
    expect(caught.length).toBeGreaterThan(0);
    expect(ticketed.get(caught[0]?.key as string)?.notes).toMatch(/duty cycle .* against two weeks before/);
    const ranking = await riskRanking(db, 5);
    expect(ranking.length).toBeGreaterThan(0);
    expect(ranking[0]?.score).toBeGreaterThanOrEqual(ranking.at(-1)?.score ?? 0);
    // a healthy espresso machine: its busiest hour of the last two weeks would take part of an hour, not the whole
    const espresso = (await riskRanking(db, 500)).find((r) => `${r.gatewayId}/${r.deviceRef}` === sampled[1]?.key);
    expect(espresso?.loadUnits).toBeGreaterThan(0);
    expect(espresso?.load).toBeGreaterThan(0.1);
    expect(espresso?.load).toBeLessThan(DEFAULT_TICKET_RULE.load);
    expect(espresso?.failChance).toBeGreaterThanOrEqual(0);
    expect(espresso?.failChance).toBeLessThan(DEFAULT_TICKET_RULE.chance);
  });

  it('aggregates each day once, again only when a record for it arrives late, and the same as from scratch', async () => {
    const HOUR = 3_600_000;
    const after = START + DAYS * DAY + 2 * HOUR;
    // the hour after the last round: nothing arrived since, so no day is aggregated again
    const quiet = await db.transaction((tx) => scoreRisk(tx, slaDefaults, after));
    expect(quiet.aggregated).toBe(0);
    expect(quiet.scored).toBeGreaterThan(0);
    const [fridge, espresso] = sampled as [(typeof fleet)[number], (typeof fleet)[number]];
    const [g, d] = fridge.key.split('/') as [string, string];
    const before = await deviceDays(db, START + 28 * DAY, START + 31 * DAY);
    // a gateway back from an outage: a duty cycle of day 30 and a bucket of day 28 arrive now
    const [bucket] = await db.query<{ data: UsageRow['data'] }>(
      'SELECT data FROM usage_buckets WHERE gateway_id = $1 AND device_ref = $2 AND start_at = $3',
      espresso.key.split('/').concat(String(START + 28 * DAY + 10 * HOUR)),
    );
    if (!bucket) throw new Error('no bucket of day 28 for the espresso machine');
    const warmer = structuredClone(bucket.data);
    for (const m of Object.values(warmer.metrics)) if (m.role === 'temperature' && typeof m.mean === 'number') m.mean += 40;
    warmer.bucketSeq += 100_000;
    await db.transaction(async (tx) => {
      await insertSignals(
        tx,
        [
          {
            gatewayId: g,
            provider: 'coolco',
            deviceRef: d,
            data: {
              deviceId: d,
              signal: 'duty_cycle',
              attribute: 'power',
              value: 0.5,
              unit: 'ratio',
              threshold: 0.95,
              exceeded: false,
              at: START + 30 * DAY + 90 * 60_000,
            },
          },
        ],
        after + HOUR / 2,
      );
      const [eg, ed] = espresso.key.split('/') as [string, string];
      await insertUsage(tx, [{ gatewayId: eg, provider: 'coolco', deviceRef: ed, data: warmer }], after + HOUR / 2);
    });
    const late = await db.transaction((tx) => scoreRisk(tx, slaDefaults, after + HOUR));
    expect(late.aggregated).toBe(2);
    const incremental = await deviceDays(db, START + 28 * DAY, START + 31 * DAY);
    const pick = (rows: typeof before, key: string, day: number) => rows.find((r) => r.key === key && r.day === START + day * DAY);
    expect(pick(incremental, fridge.key, 30)?.duty).not.toBeCloseTo(pick(before, fridge.key, 30)?.duty as number, 6);
    expect(pick(incremental, espresso.key, 28)?.warmth).toBeGreaterThan((pick(before, espresso.key, 28)?.warmth as number) + 30);
    expect(pick(incremental, fridge.key, 29)).toEqual(pick(before, fridge.key, 29));
    // forget what is kept: every day aggregated from the records again gives the same days
    const window = await deviceDays(db, START + 12 * DAY, START + DAYS * DAY);
    await db.query('DELETE FROM device_days_kept');
    const again = await db.transaction((tx) => keepDays(tx, START + 12 * DAY, START + DAYS * DAY, after + 2 * HOUR));
    expect(again.length).toBe(DAYS - 12);
    const sorted = (rows: typeof window) => [...rows].sort((a, b) => a.key.localeCompare(b.key) || a.day - b.day);
    expect(sorted(await deviceDays(db, START + 12 * DAY, START + DAYS * DAY))).toEqual(sorted(window));
  });
});
