import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetDb } from '../../fleet/db/fleetDb.ts';
import { migrate, SCHEMA_VERSION } from '../../fleet/db/migrations.ts';
import { clearAlarm, raiseAlarm } from '../../fleet/alarms.ts';
import { storeMessage } from '../../fleet/ingest/batch.ts';
import { checkOffline } from '../../fleet/jobs/offline.ts';
import { engines } from './engines.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { alert, status, T0, usage } from './records.ts';

/** One storage contract, run against both engines: a PostgreSQL 15 server and embedded PGlite. */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

describe.each(engines(dirs))('fleet store on %s', (_name, open) => {
  let db: FleetDb;
  beforeAll(async () => {
    db = await open();
    await migrate(db);
  }, 60_000);
  afterAll(() => db?.close());

  const put = (m: { topic: string; payload: string | Buffer }) => db.transaction((tx) => storeMessage(tx, m.topic, Buffer.from(m.payload), T0 + 1000));
  const count = async (table: string, where = 'true') => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`))[0]?.n;

  it('migrates once; a second run (another worker) changes nothing', async () => {
    expect(await migrate(db)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(3);
    expect(await db.query('SELECT version FROM schema_version')).toEqual([{ version: SCHEMA_VERSION }]);
  });

  it('stores each record kind once: a redelivered message changes nothing', async () => {
    for (let i = 0; i < 2; i++) {
      expect(await put(usage('gw-1', 1, 1))).toEqual({ stored: true, kind: 'usage' });
      expect(await put(alert('gw-1', 2))).toEqual({ stored: true, kind: 'alert' });
      expect(await put(status('gw-1', 'online'))).toEqual({ stored: true, kind: 'status' });
    }
    expect(await count('usage_buckets')).toBe(1);
    expect(await count('alerts')).toBe(1);
    const [row] = await db.query<{ data: { bucketSeq: number; metrics: { energy: { delta: number } } }; start_at: number }>(
      'SELECT data, start_at FROM usage_buckets',
    );
    expect(row?.data.metrics.energy.delta).toBe(120);
    expect(row?.start_at).toBe(T0 + 3_600_000);
    expect(await db.query('SELECT state, version FROM gateways WHERE gateway_id = $1', ['gw-1'])).toEqual([{ state: 'online', version: '0.1.0' }]);
    await put(status('gw-1', 'offline')); // the last will carries no time or version
    expect(await db.query('SELECT state, version FROM gateways')).toEqual([{ state: 'offline', version: '0.1.0' }]);
  });

  it('stores a bucket exactly as it came: names with quotes, backslashes, commas, braces and non-ASCII, and the floats JavaScript prints', async () => {
    const m = usage('gw-9', 1, 1);
    const payload = JSON.parse(m.payload) as { data: { metrics: Record<string, unknown> } };
    const odd = ['say "hi"', 'back\\slash', '{a,b}', 'NULL', 'Kühlraum ❄ 冷', ' spaced ', '\t\n'];
    for (const [i, name] of odd.entries())
      payload.data.metrics[name] = {
        role: 'energy',
        unit: 'Wh',
        delta: [0.1 + 0.2, 1e-7, 123456789.12345679, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2][i] ?? 1,
        resets: 0,
        rollovers: 0,
        samples: 1,
      };
    expect(await put({ topic: m.topic, payload: JSON.stringify(payload) })).toEqual({ stored: true, kind: 'usage' });
    const [row] = await db.query<{ data: unknown; energy_wh: number }>("SELECT data, energy_wh FROM usage_buckets WHERE gateway_id = 'gw-9'");
    expect(row?.data).toEqual(payload.data);
    const sum = Object.values(payload.data.metrics).reduce<number>((a, x) => a + (x as { delta: number }).delta, 0);
    expect(row?.energy_wh).toBe(sum);
  });

  it('keeps what fails validation for inspection, counts it per gateway, and stores nothing else from it', async () => {
    const good = usage('gw-2', 1, 1);
    const cases: Array<[string, string | Buffer, RegExp]> = [
      [good.topic, 'not json', /not JSON/],
      [good.topic, JSON.stringify({ ...JSON.parse(good.payload), v: 2 }), /^v: /],
      [good.topic, JSON.stringify({ ...JSON.parse(good.payload), data: { bucketSeq: -1 } }), /^data\./],
      [good.topic, JSON.stringify({ ...JSON.parse(good.payload), gatewayId: 'gw-other' }), /gatewayId "gw-other" is not the topic's "gw-2"/],
      [good.topic, good.payload.replace('"rule"', '"rule"').replace('"Wh"', '"W\\u0000h"'), /U\+0000/],
      [good.topic, Buffer.alloc(300 * 1024, 0x20), /exceeds/],
      // a metric named __proto__ (JSON.parse keeps it; a schema's parse would drop it and store the rest)
      [
        good.topic,
        good.payload.replace('"metrics":{', '"metrics":{"__proto__":{"role":"energy","unit":"Wh","delta":1},'),
        /^data\.metrics\.__proto__: "__proto__" is not/,
      ],
      // ... also at the bottom of 40,000 levels of nesting (walked without the call stack)
      [
        good.topic,
        good.payload.replace(/}$/, `,"x":${'{"a":'.repeat(40_000)}{"__proto__":1}${'}'.repeat(40_000)}}`),
        /^x(\.a){40000}\.__proto__: "__proto__" is not/,
      ],
      // the same name inside a string is only a string
      [good.topic, JSON.stringify({ ...JSON.parse(good.payload), v: '"__proto__"' }), /^v: /],
      ['trellis/v1/gw-2/p/coolco/nonsense', good.payload, /not a Trellis v1 stream topic/],
    ];
    for (const [topic, payload, reason] of cases) {
      const out = await put({ topic, payload });
      expect(out.stored, topic).toBe(false);
      expect((out as { reason: string }).reason).toMatch(reason);
    }
    expect(await count('usage_buckets', "gateway_id = 'gw-2'")).toBe(0);
    expect(await count('invalid_messages')).toBe(cases.length);
    expect(await db.query('SELECT invalid_count FROM gateways WHERE gateway_id = $1', ['gw-2'])).toEqual([{ invalid_count: cases.length - 1 }]);
    const kept = await db.query<{ payload: string }>("SELECT payload FROM invalid_messages WHERE reason LIKE '%U+0000%'");
    expect(kept[0]?.payload).toContain('W\\u0000h'); // as sent (the escape is text), truncated to 4 KB at most
  });

  it('a gateway alert raises an alarm; a new one repeats it, a redelivered one does not, a cleared one starts over', async () => {
    const active = () => db.query<{ count: number; code: string }>("SELECT count, code FROM alarms WHERE gateway_id = 'gw-4' AND state = 'active'");
    await put(alert('gw-4', 1, 'door held open'));
    await put(alert('gw-4', 1, 'door held open')); // the same record again
    expect(await active()).toEqual([{ count: 1, code: 'rule.door-alarm' }]);
    await put(alert('gw-4', 2, 'door held open again'));
    expect(await active()).toEqual([{ count: 2, code: 'rule.door-alarm' }]);
    expect(await db.transaction((tx) => clearAlarm(tx, 'gw-4', 'dev-a', 'rule.door-alarm', T0 + 5000))).toBe(true);
    await put(alert('gw-4', 3, 'door held open a third time'));
    expect(await active()).toEqual([{ count: 1, code: 'rule.door-alarm' }]);
    expect(await count('alarms', "gateway_id = 'gw-4'")).toBe(2);
  });

  it('two workers raising the same alarm at once make one active alarm with two repeats', async () => {
    const a = { gatewayId: 'gw-5', deviceRef: 'dev-b', code: 'maintenance', severity: 'warning', message: 'duty cycle high', at: T0 };
    await Promise.all([db.transaction((tx) => raiseAlarm(tx, a)), db.transaction((tx) => raiseAlarm(tx, { ...a, at: T0 + 1 }))]);
    expect(await db.query("SELECT count, last_at FROM alarms WHERE gateway_id = 'gw-5'")).toEqual([{ count: 2, last_at: T0 + 1 }]);
  });

  it('offline detection raises one alarm per offline gateway, even when two workers check at once, and clears it when the gateway is back', async () => {
    await put(status('gw-6', 'online'));
    await put(status('gw-6', 'offline')); // its last will
    const now = T0 + 2000;
    const [x, y] = await Promise.all([checkOffline(db, now, 600_000), checkOffline(db, now, 600_000)]);
    // gw-1's last will (an earlier test) counts too: one alarm per offline gateway, whichever worker raised it
    expect((x?.raised ?? 0) + (y?.raised ?? 0)).toBe(await count('alarms', "code = 'gateway.offline'"));
    expect(await count('alarms', "code = 'gateway.offline' AND gateway_id IN ('gw-1', 'gw-6')")).toBe(2);
    const offline = () =>
      db.query<{ state: string; message: string }>("SELECT state, message FROM alarms WHERE gateway_id = 'gw-6' AND code = 'gateway.offline'");
    expect(await offline()).toEqual([{ state: 'active', message: 'Gateway gw-6 is offline: its connection ended (last will)' }]);
    await put(status('gw-6', 'online'));
    expect(await checkOffline(db, now + 1000, 600_000)).toMatchObject({ ran: true, cleared: 1 });
    expect((await offline()).map((r) => r.state)).toEqual(['cleared']);
    // silence counts too: nothing heard for longer than the limit
    expect(await checkOffline(db, now + 3_600_000, 600_000)).toMatchObject({ ran: true });
    expect((await offline()).map((r) => r.state).sort()).toEqual(['active', 'cleared']);
  });

  it('a transaction that fails stores none of its rows', async () => {
    await expect(
      db.transaction(async (tx) => {
        await storeMessage(tx, usage('gw-3', 1, 7).topic, Buffer.from(usage('gw-3', 1, 7).payload), T0);
        throw new Error('the worker died mid-commit');
      }),
    ).rejects.toThrow('mid-commit');
    expect(await count('usage_buckets', "gateway_id = 'gw-3'")).toBe(0);
    expect(await count('gateways', "gateway_id = 'gw-3'")).toBe(0);
  });
});
