import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetDb } from '../../fleet/db/fleetDb.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { monthRange } from '../../fleet/localTime.ts';
import { type MonthlyUsage, monthlyUsage } from '../../fleet/usage.ts';
import { bucketSummary, SUMMARY_FROM_JSON } from '../../fleet/usageSummary.ts';
import type { UsageBucket } from '../../protocol/index.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { engines, migrated } from './engines.ts';
import { HOUR } from './records.ts';

/**
 * A month of usage is summed by the database from each bucket's summary columns (written at ingest),
 * with the JSON of buckets stored without them (before migration 9, or by an older worker) summed
 * here. Either way the month must be what walking every bucket's JSON gives: checked against that
 * walk (written out below, independently of fleet/usage.ts) on two sites in two time zones, with
 * missing hours, hours the gateway marked offline, fractional energy and two counters, on both engines.
 */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

const MONTH = '2026-12';
const SITES = [
  { id: 'gw-berlin', zone: 'Europe/Berlin' },
  { id: 'gw-york', zone: 'America/New_York' },
];
const DEVICES = ['espresso', 'fridge', 'oven'];
const NOW = Date.UTC(2026, 11, 4, 12);

/** A deterministic sequence in [0, 1). */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

function bucketsOf(site: (typeof SITES)[number], device: string, rnd: () => number): UsageBucket[] {
  const { start } = monthRange(MONTH, site.zone);
  const out: UsageBucket[] = [];
  // the device appears 3 hours into the month (expected hours start there), and ends 2 days in
  for (let h = 3; h < 48; h++) {
    if (rnd() < 0.1) continue; // never arrived
    const at = start + h * HOUR;
    const offline = rnd() < 0.15 ? Math.round(rnd() * 3600) : 0;
    const metrics: UsageBucket['metrics'] = {
      energy: { role: 'energy', unit: 'Wh', delta: Math.round(rnd() * 1e6) / 1e3, resets: 0, rollovers: 0, samples: 60 },
      heater: { role: 'on', seconds: Math.round(rnd() * 3600), starts: Math.floor(rnd() * 9), samples: 60 },
    };
    if (device === 'espresso') {
      metrics.cups = { role: 'counter', delta: Math.floor(rnd() * 30), resets: 0, rollovers: 0, samples: 5 };
      metrics.lungo = { role: 'counter', delta: Math.floor(rnd() * 5), resets: 0, rollovers: 0, samples: 5 };
    }
    if (device === 'fridge') metrics.door = { role: 'door', openSeconds: Math.round(rnd() * 600), openings: Math.floor(rnd() * 20), samples: 20 };
    out.push({
      deviceId: device,
      start: at,
      end: at + HOUR,
      localStart: 'x',
      metrics,
      gaps: offline > 0 ? [{ from: at + 3600_000 - offline * 1000, to: at + HOUR, reason: 'offline' }] : [],
      offlineSeconds: offline,
    });
  }
  return out;
}

/** The month as walking each bucket's JSON in order gives it (what fleet/usage.ts did before the summary columns). */
function walked(site: (typeof SITES)[number], device: string, buckets: readonly UsageBucket[]): MonthlyUsage {
  const { start, end } = monthRange(MONTH, site.zone);
  const from = Math.max(start, (buckets[0] as UsageBucket).start);
  const until = Math.min(end, Math.floor(NOW / HOUR) * HOUR);
  let wh = 0;
  let on = 0;
  let starts = 0;
  let door = 0;
  let openings = 0;
  let covered = 0;
  const counters = new Map<string, number>();
  const gaps: MonthlyUsage['gaps'] = [];
  let expected = from;
  for (const b of buckets) {
    if (b.start > expected) gaps.push({ from: expected, to: b.start, reason: 'missing' });
    expected = Math.max(expected, b.end);
    covered += Math.max(0, 3600 - b.offlineSeconds);
    gaps.push(...b.gaps);
    for (const [name, m] of Object.entries(b.metrics)) {
      if (m.role === 'energy') wh += m.delta;
      if (m.role === 'counter') counters.set(name, (counters.get(name) ?? 0) + m.delta);
      if (m.role === 'on') {
        on += m.seconds;
        starts += m.starts;
      }
      if (m.role === 'door') {
        door += m.openSeconds;
        openings += m.openings;
      }
    }
  }
  if (until > expected) gaps.push({ from: expected, to: until, reason: 'missing' });
  const r = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  const hoursExpected = (until - from) / HOUR;
  return {
    gatewayId: site.id,
    customer: null,
    deviceRef: device,
    model: null,
    month: MONTH,
    timeZone: site.zone,
    energyKWh: r(wh / 1000, 6),
    counters: Object.fromEntries([...counters].sort(([a], [b]) => (a < b ? -1 : 1))),
    onHours: r(on / 3600),
    starts,
    doorOpenHours: r(door / 3600),
    doorOpenings: openings,
    hoursCovered: r(covered / 3600),
    hoursExpected: r(hoursExpected),
    completeness: r(Math.min(1, covered / 3600 / hoursExpected), 4),
    gaps,
  };
}

it('sums a counter named like an Object.prototype key as any other', () => {
  // JSON.parse makes "__proto__" an own key; assigning it on a plain object would set the prototype instead
  const data = JSON.parse(
    '{"deviceId":"d","start":0,"end":3600000,"localStart":"x","gaps":[],"offlineSeconds":600,"metrics":{"__proto__":{"role":"counter","delta":2,"resets":0,"rollovers":0,"samples":1},"cups":{"role":"counter","delta":5,"resets":0,"rollovers":0,"samples":1}}}',
  ) as UsageBucket;
  const s = bucketSummary(data);
  expect(Object.entries(s.counters ?? {})).toEqual([
    ['__proto__', 2],
    ['cups', 5],
  ]);
  expect(JSON.stringify(s.counters)).toBe('{"__proto__":2,"cups":5}');
  expect(s).toMatchObject({ energyWh: 0, coveredSeconds: 3000, gaps: null });
});

describe.each(engines(dirs))('a month summed by the database, on %s', (_name, open) => {
  let db: FleetDb;
  const expected: MonthlyUsage[] = [];
  beforeAll(async () => {
    db = await migrated(open);
    const rnd = random(7);
    for (const site of SITES) {
      const manifest = { v: 1, gatewayId: site.id, at: 1, timeZone: site.zone, devices: [] };
      await db.transaction((tx) => storeMessage(tx, `trellis/v1/${site.id}/p/coolco/manifest`, Buffer.from(JSON.stringify(manifest)), NOW));
      for (const device of DEVICES) {
        const buckets = bucketsOf(site, device, rnd);
        // stored out of order, as a gateway's resends arrive
        for (const [i, data] of [...buckets.entries()].reverse()) {
          const payload = {
            v: 1,
            key: `${site.id}:${device}:${i}`,
            seq: i + 1,
            gatewayId: site.id,
            type: 'usage',
            at: data.end,
            data: { ...data, bucketSeq: i + 1 },
          };
          const text = Buffer.from(JSON.stringify(payload));
          await db.transaction((tx) => storeMessage(tx, `trellis/v1/${site.id}/p/coolco/usage/${device}`, text, NOW));
        }
        expected.push(walked(site, device, buckets));
      }
    }
  }, 60_000);
  afterAll(() => db?.close());

  it('equals the walk of every bucket, for all sites at once and for one', async () => {
    const espresso = expected.find((e) => e.deviceRef === 'espresso');
    expect(Object.keys(espresso?.counters ?? {})).toEqual(['cups', 'lungo']);
    expect(espresso?.gaps.some((g) => g.reason === 'missing')).toBe(true);
    expect(espresso?.gaps.some((g) => g.reason === 'offline')).toBe(true);
    expect(await monthlyUsage(db, MONTH, NOW)).toEqual(expected);
    expect(await monthlyUsage(db, MONTH, NOW, { gatewayId: 'gw-york' })).toEqual(expected.filter((e) => e.gatewayId === 'gw-york'));
    expect(await monthlyUsage(db, MONTH, NOW, { gatewayId: 'gw-nowhere' })).toEqual([]);
  });

  it('sums buckets stored without their summary from their JSON, and the same month comes out', async () => {
    await db.query(
      `UPDATE usage_buckets SET energy_wh = NULL, on_seconds = NULL, starts = NULL, door_seconds = NULL, openings = NULL,
         covered_seconds = NULL, counters = NULL, gaps = NULL WHERE bucket_seq % 2 = 0`,
    );
    expect(await monthlyUsage(db, MONTH, NOW)).toEqual(expected);
  });

  it("migration 9's SQL fills the summary as the ingest writes it", async () => {
    await db.query(SUMMARY_FROM_JSON);
    const rows = await db.query<{ data: UsageBucket; s: Record<string, unknown> }>(
      `SELECT data, jsonb_build_object('energyWh', energy_wh, 'onSeconds', on_seconds, 'starts', starts, 'doorSeconds', door_seconds,
         'openings', openings, 'coveredSeconds', covered_seconds, 'counters', counters, 'gaps', gaps) AS s FROM usage_buckets`,
    );
    expect(rows.length).toBeGreaterThan(200);
    for (const r of rows) expect(r.s).toEqual({ ...bucketSummary(r.data) });
    expect(await monthlyUsage(db, MONTH, NOW)).toEqual(expected);
  });
});
