// The hourly risk round (fleet/jobs/risk.ts `scoreRisk`) at a provider's size (bench:fleet: 125, 500
// and 2,000 sites, 899, 3,713 and 14,474 devices), each with the 23 days of hourly usage and maintenance signals the round reads
// (its 22-day window and the day it scores). Sites, devices and models come through the real ingest
// path (`seedSites`); the bulk of the rows is written by the database itself (generate_series), as in
// bench/fleetApi.ts. Reports the round's time, the CPU of PostgreSQL and of this process, and how they
// grow with the device count: a fleet's first round (every day of the window aggregated), the next
// hour's (nothing new arrived) and a new day's (one day aggregated).
import { slaDefaults } from '../fleet/config.ts';
import { type FleetDb, postgresDb } from '../fleet/db/fleetDb.ts';
import { migrate } from '../fleet/db/migrations.ts';
import { scoreRisk } from '../fleet/jobs/risk.ts';
import type { FigureList } from './figures.ts';
import { seedSites, seedUsage } from './fleetApi.ts';
import { CpuGroups, childrenOf, parentOf } from './procStats.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** where seedSites' and seedUsage's data starts */
const FROM = Date.UTC(2026, 9, 1);
/** the round's window (22 days) and the day it scores */
const DAYS = 23;

export interface RiskScaleOptions {
  readonly clusterUrl: string;
  /** sites per size (10 devices each) */
  readonly sites: readonly number[];
}

export async function riskAtScale(o: RiskScaleOptions, { add }: FigureList): Promise<void> {
  const admin = await postgresDb(o.clusterUrl, 1);
  /** each round's figures at the smallest size, the baseline of the larger ones */
  const smallest = new Map<string, { devices: number; seconds: number }>();
  try {
    for (const sites of o.sites) {
      await admin.query('DROP DATABASE IF EXISTS risk_scale');
      await admin.query('CREATE DATABASE risk_scale');
      const db = await postgresDb(o.clusterUrl.replace(/\/[^/]*$/, '/risk_scale'), 2);
      try {
        const t0 = performance.now();
        await migrate(db);
        const template = await seedSites(db, sites, 10);
        const devices = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices'))[0]?.n ?? 0;
        await seedUsage(db, template, 0, DAYS);
        const signals = await seedSignals(db, DAYS);
        await db.exec('ANALYZE');
        console.log(
          `  ${devices.toLocaleString('en-US')} devices: ${(devices * DAYS * 24).toLocaleString('en-US')} usage rows, ${signals.toLocaleString('en-US')} signals (${((performance.now() - t0) / 1000).toFixed(0)} s to write)`,
        );
        const [backend] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const postmaster = parentOf(backend?.pid as number);
        const cpu = new CpuGroups({ postgres: () => [postmaster, ...childrenOf(postmaster)], fleet: () => [process.pid] });
        // the round at the hour after the last day closed (every day aggregated: a fleet's first round);
        // the next hour's, with nothing new; and one whose day was not aggregated yet (each day's first)
        const now = FROM + DAYS * DAY + HOUR;
        for (const round of ['first', 'next hour', 'new day'] as const) {
          if (round === 'new day') await db.query('DELETE FROM device_days_kept WHERE day = $1', [FROM + (DAYS - 1) * DAY]);
          const before = cpu.take();
          const heap0 = process.memoryUsage().heapUsed;
          const r0 = performance.now();
          const result = await db.transaction((tx) => scoreRisk(tx, slaDefaults, now + (round === 'first' ? 0 : HOUR)));
          const seconds = (performance.now() - r0) / 1000;
          const used = cpu.since(before);
          if (result.scored !== devices) throw new Error(`the round scored ${result.scored} of ${devices} devices`);
          if (!smallest.has(round)) smallest.set(round, { devices, seconds });
          const base = smallest.get(round) as { devices: number; seconds: number };
          const label = `risk round (${round}), ${devices.toLocaleString('en-US')} devices with ${DAYS} days of hourly usage and signals`;
          add(
            label,
            seconds,
            's',
            devices === base.devices
              ? null
              : `the same round at ${base.devices.toLocaleString('en-US')} devices (${(devices / base.devices).toFixed(1)}x the devices)`,
            devices === base.devices ? null : base.seconds,
            null,
            null,
          );
          add(`${label}: CPU of PostgreSQL`, used.postgres ?? 0, 's', null, null, null, null);
          add(`${label}: CPU of the fleet process (scoring in JavaScript)`, used.fleet ?? 0, 's', null, null, null, null);
          add(`${label}: heap it grew by`, (process.memoryUsage().heapUsed - heap0) / 1e6, 'MB', null, null, null, null);
          add(`${label}: days aggregated`, result.aggregated, 'days', null, null, null, null);
          add(`${label}: tickets opened`, result.ticketsOpened, 'tickets', null, null, null, null);
        }
      } finally {
        await db.close();
      }
    }
  } finally {
    await admin.query('DROP DATABASE IF EXISTS risk_scale');
    await admin.close();
  }
}

/**
 * Every device's hourly `duty_cycle` signal (a compressor's or element's share of the hour, each device
 * around a level of its own) and, for a fridge, two `recovery_time` signals an hour (minutes after a
 * door opening), days [0, days) from FROM, written by the database a day at a time. Returns how many.
 */
export async function seedSignals(db: FleetDb, days: number): Promise<number> {
  let n = 0;
  for (let day = 0; day < days; day++) {
    const rows = await db.query<{ n: number }>(
      `WITH hours AS (SELECT $1::bigint + (h + 1) * ${HOUR} AS at FROM generate_series($2::int * 24, $2::int * 24 + 23) h),
       s AS (
         SELECT d.gateway_id, d.device_ref, 'duty_cycle' AS signal, 'power' AS attribute, hours.at,
           round((0.3 + 0.2 * (hashtext(d.gateway_id || d.device_ref) & 255) / 255.0 + 0.1 * random())::numeric, 3)::float8 AS value, 'ratio' AS unit, 0.95 AS threshold
         FROM devices d, hours
         UNION ALL
         SELECT d.gateway_id, d.device_ref, 'recovery_time', 'temperature', hours.at - k * 1800000, round((6 + 4 * random())::numeric, 1)::float8, 'min', 30
         FROM devices d, hours, generate_series(0, 1) k WHERE d.kind = 'fridge'
       ), ins AS (
         INSERT INTO maintenance_signals (gateway_id, provider, device_ref, signal, attribute, at, data)
         SELECT gateway_id, 'coolco', device_ref, signal, attribute, at,
           jsonb_build_object('deviceId', device_ref, 'signal', signal, 'attribute', attribute, 'value', value, 'unit', unit,
             'threshold', threshold, 'exceeded', value > threshold, 'at', at)
         FROM s RETURNING 1
       )
       SELECT count(*)::int AS n FROM ins`,
      [FROM, day],
    );
    n += rows[0]?.n ?? 0;
  }
  return n;
}
