import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetDb } from '../../fleet/db/fleetDb.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { findGaps, repairGaps } from '../../fleet/jobs/gaps.ts';
import { applyRetention } from '../../fleet/jobs/retention.ts';
import { localToUtc, monthRange, nextLocalTime } from '../../fleet/localTime.ts';
import { monthlyUsage, usageCsv } from '../../fleet/usage.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { engines, migrated } from './engines.ts';
import { HOUR } from './records.ts';

/** Billing-grade usage per local month, gaps found and asked for, retention: on both engines. */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());
/** 2026-12-01T00:00 in Berlin is 2026-11-30T23:00Z */
const DEC = Date.UTC(2026, 10, 30, 23);

function bucket(gatewayId: string, ref: string, seq: number, start: number, extra: { offlineSeconds?: number; gaps?: unknown[] } = {}) {
  const data = {
    deviceId: ref,
    start,
    end: start + HOUR,
    localStart: 'x',
    metrics: {
      energy: { role: 'energy', unit: 'Wh', delta: 250, resets: 0, rollovers: 0, samples: 60 },
      cups: { role: 'counter', delta: 3, resets: 0, rollovers: 0, samples: 3 },
      compressor: { role: 'on', seconds: 1800, starts: 2, samples: 60 },
      door: { role: 'door', openSeconds: 90, openings: 4, samples: 8 },
    },
    gaps: extra.gaps ?? [],
    offlineSeconds: extra.offlineSeconds ?? 0,
    bucketSeq: seq,
  };
  return {
    topic: `trellis/v1/${gatewayId}/p/coolco/usage/${ref}`,
    payload: JSON.stringify({ v: 1, key: `${gatewayId}:${100 + seq}`, seq: 100 + seq, gatewayId, type: 'usage', at: start + HOUR, data }),
  };
}

describe('local time', () => {
  it('finds month boundaries and wall times across DST in a zone', () => {
    expect(monthRange('2026-12', 'Europe/Berlin')).toEqual({ start: DEC, end: Date.UTC(2026, 11, 31, 23) });
    expect(monthRange('2026-03', 'Europe/Berlin').end - monthRange('2026-03', 'Europe/Berlin').start).toBe((31 * 24 - 1) * HOUR); // spring forward
    expect(localToUtc('America/New_York', 2026, 7, 1, 2, 0)).toBe(Date.UTC(2026, 6, 1, 6));
    expect(nextLocalTime('02:00', 'Europe/Berlin', Date.UTC(2026, 11, 1, 12))).toBe(Date.UTC(2026, 11, 2, 1));
    expect(nextLocalTime('02:00', 'Europe/Berlin', Date.UTC(2026, 11, 1, 0))).toBe(Date.UTC(2026, 11, 1, 1));
  });
});

describe.each(engines(dirs))('usage on %s', (_name, open) => {
  let db: FleetDb;
  beforeAll(async () => {
    db = await migrated(open);
    const put = (m: { topic: string; payload: string }) => db.transaction((tx) => storeMessage(tx, m.topic, Buffer.from(m.payload), DEC));
    await put({
      topic: 'trellis/v1/gw-1/p/coolco/manifest',
      payload: JSON.stringify({
        v: 1,
        gatewayId: 'gw-1',
        at: 1,
        timeZone: 'Europe/Berlin',
        devices: [{ deviceId: 'coffee', model: 'sim-coffee', capabilities: [], commands: [], classes: ['usage'] }],
      }),
    });
    // five hours from local midnight; hour 2 never arrived; hour 3 was half offline (the gateway marked it)
    for (const h of [0, 1, 3, 4])
      await put(
        bucket(
          'gw-1',
          'coffee',
          h + 1,
          DEC + h * HOUR,
          h === 3 ? { offlineSeconds: 1800, gaps: [{ from: DEC + 3 * HOUR, to: DEC + 3.5 * HOUR, reason: 'offline' }] } : {},
        ),
      );
    await put(bucket('gw-1', 'coffee', 99, DEC - HOUR)); // 23:00 local on Nov 30: November's
  }, 60_000);
  afterAll(() => db?.close());

  it("sums a site's local month per device, with completeness and every gap, missing or marked", async () => {
    const [row, ...rest] = await monthlyUsage(db, '2026-12', DEC + 5 * HOUR);
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      gatewayId: 'gw-1',
      deviceRef: 'coffee',
      model: 'sim-coffee',
      timeZone: 'Europe/Berlin',
      energyKWh: 1,
      counters: { cups: 12 },
      onHours: 2,
      starts: 8,
      doorOpenHours: 0.1,
      doorOpenings: 16,
      hoursExpected: 5,
      hoursCovered: 3.5,
      completeness: 0.7,
    });
    expect(row?.gaps).toEqual([
      { from: DEC + 2 * HOUR, to: DEC + 3 * HOUR, reason: 'missing' },
      { from: DEC + 3 * HOUR, to: DEC + 3.5 * HOUR, reason: 'offline' },
    ]);
    const [nov] = await monthlyUsage(db, '2026-11', DEC + 5 * HOUR);
    expect(nov).toMatchObject({ energyKWh: 0.25, hoursExpected: 1, completeness: 1 });
    const csv = usageCsv([row as NonNullable<typeof row>])
      .trim()
      .split('\n');
    expect(csv[0]).toBe(
      'month,site,customer,device,model,time_zone,energy_kwh,counters,on_hours,starts,door_open_hours,door_openings,hours_covered,hours_expected,completeness,gaps',
    );
    expect(csv[1]).toBe(
      '2026-12,gw-1,,coffee,sim-coffee,Europe/Berlin,1,cups=12,2,8,0.1,16,3.5,5,0.7,2026-12-01T01:00:00.000Z/2026-12-01T02:00:00.000Z missing;2026-12-01T02:00:00.000Z/2026-12-01T02:30:00.000Z offline',
    );
  });

  it('finds the missing bucket, asks for it once with a usage.gap alarm, and clears the alarm when it arrives', async () => {
    expect(await findGaps(db, 0)).toEqual([{ gatewayId: 'gw-1', deviceRef: 'coffee', from: DEC + 2 * HOUR, to: DEC + 3 * HOUR }]);
    expect(await db.transaction((tx) => repairGaps(tx, DEC + 6 * HOUR))).toEqual({ gaps: 1, requested: 1, cleared: 0 });
    expect(await db.transaction((tx) => repairGaps(tx, DEC + 7 * HOUR))).toEqual({ gaps: 1, requested: 0, cleared: 0 });
    expect(await db.query("SELECT state FROM alarms WHERE code = 'usage.gap'")).toEqual([{ state: 'active' }]);
    expect(await db.query('SELECT device_ref, from_at, to_at FROM resend_requests')).toEqual([
      { device_ref: 'coffee', from_at: DEC + 2 * HOUR, to_at: DEC + 3 * HOUR },
    ]);
    const b = bucket('gw-1', 'coffee', 3, DEC + 2 * HOUR);
    await db.transaction((tx) => storeMessage(tx, b.topic, Buffer.from(b.payload), DEC + 8 * HOUR));
    expect(await db.transaction((tx) => repairGaps(tx, DEC + 8 * HOUR))).toEqual({ gaps: 0, requested: 0, cleared: 1 });
    expect(await db.query("SELECT state FROM alarms WHERE code = 'usage.gap'")).toEqual([{ state: 'cleared' }]);
    expect((await monthlyUsage(db, '2026-12', DEC + 5 * HOUR))[0]?.completeness).toBe(0.9);
  });

  it('downsamples raw health older than the retention to hourly rows and deletes it; keeps the recent', async () => {
    const health = (at: number, lag: number) => ({
      topic: 'trellis/v1/gw-1/p/coolco/health',
      payload: JSON.stringify({
        v: 1,
        key: `gw-1:h${at}`,
        seq: 1,
        gatewayId: 'gw-1',
        type: 'health',
        at,
        data: {
          uptimeS: 1,
          eventLoop: { lagP99Ms: lag, lagMaxMs: lag * 2 },
          cpu: { percent: 5, load1: 0.1 },
          memory: { rssBytes: 1e8, heapUsedBytes: 5e7 },
          disk: { freeBytes: null, databaseBytes: 1 },
          outbox: { depth: 3, bytes: 1, maxBytes: 1, oldestAgeS: null, dropped: {} },
          drivers: {},
          hub: {},
          devices: { known: 1, online: 1 },
          cloud: { connects: 1, published: 1, acked: 1, refused: 0 },
          metering: { errors: 0 },
        },
      }),
    });
    const old = DEC - 40 * 24 * HOUR;
    for (const [at, lag] of [
      [old, 2],
      [old + 60_000, 4],
      [DEC, 1],
    ] as const) {
      const m = health(at, lag);
      await db.transaction((tx) => storeMessage(tx, m.topic, Buffer.from(m.payload), at));
    }
    expect(await db.transaction((tx) => applyRetention(tx, { rawHealthDays: 30, invalidDays: 30, auditDays: 400 }, DEC))).toEqual({ hours: 1, deleted: 2 });
    expect(await db.query<{ at: number }>('SELECT at FROM health')).toEqual([{ at: DEC }]);
    const [hourly] = await db.query<{ samples: number; data: { lagP99MsMean: number; lagMaxMs: number; outboxDepthMax: number } }>(
      'SELECT samples, data FROM health_hourly',
    );
    expect(hourly?.samples).toBe(2);
    expect(hourly?.data).toMatchObject({ lagP99MsMean: 3, lagMaxMs: 8, outboxDepthMax: 3 });
  });
});
