import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeAlarm, raiseAlarm } from '../../fleet/alarms.ts';
import { fleetConfig } from '../../fleet/config.ts';
import type { FleetDb } from '../../fleet/db/fleetDb.ts';
import { ESCALATION_CLAIM_MS, escalateAlarms } from '../../fleet/jobs/escalation.ts';
import { exclusive, JobLocks } from '../../fleet/jobs/exclusive.ts';
import { sweepTickets } from '../../fleet/jobs/ticketSweep.ts';
import { People } from '../../fleet/people.ts';
import { ticketReport } from '../../fleet/reports.ts';
import { moveTicket, openTicket, ticket, ticketHistory } from '../../fleet/tickets.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { engines, migrated } from './engines.ts';
import { T0 } from './records.ts';

/** Alarms into tickets and back: the maintenance lifecycle, SLA, verification, reports and escalation, on both engines. */
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());
const MIN = 60_000;
const config = fleetConfig({
  tickets: {
    autoOpen: [{ code: 'maintenance.*', title: 'inspect compressor', priority: 'high' }],
    verifyAfterMinutes: 60,
    sla: {
      critical: { acknowledgeMinutes: 5, resolveMinutes: 60 },
      high: { acknowledgeMinutes: 15, resolveMinutes: 240 },
      normal: { acknowledgeMinutes: 60, resolveMinutes: 1440 },
      low: { acknowledgeMinutes: 240, resolveMinutes: 4320 },
    },
  },
}).tickets;

describe.each(engines(dirs))('tickets on %s', (_name, open) => {
  let db: FleetDb;
  let tess: number;
  beforeAll(async () => {
    db = await migrated(open);
    tess = (await new People(db).add('tess', 'technician', 'a long password')).id;
  }, 60_000);
  afterAll(() => db?.close());

  const sweep = (now: number) => db.transaction((tx) => sweepTickets(tx, config, now));
  const duty = (gatewayId: string, at: number) =>
    db.transaction((tx) =>
      raiseAlarm(tx, { gatewayId, deviceRef: 'fridge', code: 'maintenance.duty_cycle', severity: 'warning', message: 'duty cycle 91%', at }),
    );
  const move = (id: number, t: Parameters<typeof moveTicket>[2], now: number) => db.transaction((tx) => moveTicket(tx, id, t, 'test', now));

  it('an alarm with a configured code opens one ticket; resolving clears the alarm; a returning alarm reopens it; a quiet one verifies and closes it', async () => {
    await duty('gw-1', T0);
    expect(await sweep(T0 + MIN)).toEqual({ opened: 1, reopened: 0, verified: 0 });
    expect(await sweep(T0 + 2 * MIN)).toEqual({ opened: 0, reopened: 0, verified: 0 }); // one ticket per alarm
    const [{ id } = { id: 0 }] = await db.query<{ id: number }>("SELECT id FROM tickets WHERE gateway_id = 'gw-1'");
    let t = await ticket(db, id, T0 + 2 * MIN);
    expect(t).toMatchObject({ title: 'inspect compressor', priority: 'high', state: 'open', alarmCode: 'maintenance.duty_cycle', ackBreached: false });
    await move(id, { to: 'assigned', assigneeId: tess }, T0 + 20 * MIN); // 20 min: over the 15 min to acknowledge
    await move(id, { to: 'scheduled', scheduledFor: T0 + 60 * MIN }, T0 + 21 * MIN);
    await move(id, { to: 'in_progress' }, T0 + 60 * MIN);
    t = await move(id, { to: 'resolved', resolutionCode: 'cleaned-condenser', notes: 'dust' }, T0 + 90 * MIN);
    expect(t).toMatchObject({ state: 'resolved', visits: 1, ackBreached: true, resolveBreached: false });
    expect(await db.query("SELECT state FROM alarms WHERE gateway_id = 'gw-1'")).toEqual([{ state: 'cleared' }]);

    await duty('gw-1', T0 + 100 * MIN); // it came back before verification
    expect(await sweep(T0 + 101 * MIN)).toEqual({ opened: 0, reopened: 1, verified: 0 });
    t = await ticket(db, id, T0 + 101 * MIN);
    expect(t).toMatchObject({ state: 'open', reopened: 1, resolutionCode: null });
    await move(id, { to: 'assigned' }, T0 + 102 * MIN); // keeps tess
    await move(id, { to: 'in_progress' }, T0 + 110 * MIN);
    await move(id, { to: 'resolved', resolutionCode: 'replaced-fan' }, T0 + 130 * MIN);
    expect(await sweep(T0 + 170 * MIN)).toMatchObject({ verified: 0 }); // 40 min quiet: not yet
    expect(await sweep(T0 + 191 * MIN)).toMatchObject({ verified: 1 });
    t = await ticket(db, id, T0 + 191 * MIN);
    expect(t).toMatchObject({ state: 'closed', verifiedAt: T0 + 191 * MIN, visits: 2, assigneeId: tess });
    const history = await ticketHistory(db, id);
    expect(history.map((h) => h.to)).toEqual([
      'open',
      'assigned',
      'scheduled',
      'in_progress',
      'resolved',
      'open',
      'assigned',
      'in_progress',
      'resolved',
      'closed',
    ]);
    expect(history.at(-1)?.actor).toBe('fleet');
  });

  it('refuses a transition the lifecycle does not have, and a resolution without a code, naming what is allowed', async () => {
    const t = await db.transaction((tx) => openTicket(tx, { gatewayId: 'gw-2', title: 'check', priority: 'low' }, config.sla, 'dee', T0));
    await expect(move(t.id, { to: 'resolved', resolutionCode: 'x' }, T0)).rejects.toThrow(/ticket \d+ is open: it can go to assigned, closed, not resolved/);
    await expect(move(t.id, { to: 'assigned' }, T0)).rejects.toThrow(/assigneeId: assigning needs a technician/);
    await move(t.id, { to: 'assigned', assigneeId: tess }, T0);
    await move(t.id, { to: 'in_progress' }, T0);
    await expect(move(t.id, { to: 'resolved' }, T0)).rejects.toThrow(/resolutionCode/);
    await move(t.id, { to: 'resolved', resolutionCode: 'tightened' }, T0 + 30 * MIN);
    expect(await sweep(T0 + 91 * MIN)).toMatchObject({ verified: 1 }); // no alarm: verified by time alone
  });

  it('reports resolution rate, first-time fix, mean time to repair and SLA breaches by site', async () => {
    const rows = await ticketReport(db, 'site', T0 - 1, T0 + 1000 * MIN, T0 + 1000 * MIN);
    const gw1 = rows.find((r) => r.group === 'gw-1');
    const gw2 = rows.find((r) => r.group === 'gw-2');
    // gw-1: resolved after a reopen (two visits): no first-time fix; opened at T0+1min, last resolved at T0+130min
    expect(gw1).toEqual({ group: 'gw-1', tickets: 1, resolved: 1, resolutionRate: 1, firstTimeFixRate: 0, meanTimeToRepairH: 2.15, slaBreaches: 1 });
    expect(gw2).toMatchObject({ tickets: 1, resolved: 1, firstTimeFixRate: 1, meanTimeToRepairH: 0.5, slaBreaches: 0 });
  });

  describe('escalation', () => {
    let sink: Server;
    let url: string;
    const got: unknown[] = [];
    let failing = false;
    /** run while the webhook is answering: whether the database took another transaction meanwhile */
    let during: (() => Promise<unknown>) | undefined;
    const seenDuring: unknown[] = [];
    beforeAll(async () => {
      sink = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', async () => {
          if (during) seenDuring.push(await during());
          if (failing) return void res.writeHead(500).end();
          got.push(JSON.parse(body));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(sink.address() as { port: number }).port}/hook`;
    });
    afterAll(() => new Promise<void>((r) => sink.close(() => r())));

    it('posts an unacknowledged critical alarm to the webhook once, after the configured time; an acknowledged one never; a failed post is tried again', async () => {
      const critical = (gatewayId: string) =>
        db.transaction((tx) => raiseAlarm(tx, { gatewayId, code: 'gateway.offline', severity: 'critical', message: `${gatewayId} offline`, at: T0 }));
      await critical('gw-7');
      const acked = await critical('gw-8');
      await acknowledgeAlarm(db, acked.id, 'dispatcher:dee', T0 + MIN);
      const run = (now: number) => escalateAlarms(db, url, 30 * MIN, now);
      expect(await run(T0 + 29 * MIN)).toEqual({ escalated: 0, failed: 0 });
      failing = true;
      expect(await run(T0 + 31 * MIN)).toEqual({ escalated: 0, failed: 1 });
      failing = false;
      // while the webhook answers, no transaction of the round is open: the job's lock is free, and a
      // second round (another worker) finds the alarm claimed and posts nothing
      during = async () => ({
        lockFree: await exclusive(db, JobLocks.escalation, async () => true),
        second: await run(T0 + 32 * MIN + 1),
      });
      expect(await run(T0 + 32 * MIN)).toEqual({ escalated: 1, failed: 0 });
      during = undefined;
      expect(seenDuring).toEqual([{ lockFree: true, second: { escalated: 0, failed: 0 } }]);
      expect(await run(T0 + 33 * MIN)).toEqual({ escalated: 0, failed: 0 });
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ event: 'alarm.escalated', alarm: { gatewayId: 'gw-7', code: 'gateway.offline', acknowledged: false } });
    });

    it('posts again an alarm whose claim a dead worker left, once the claim lapsed', async () => {
      const a = await db.transaction((tx) =>
        raiseAlarm(tx, { gatewayId: 'gw-9', code: 'gateway.offline', severity: 'critical', message: 'gw-9 offline', at: T0 + 40 * MIN }),
      );
      // a worker claimed it at +71 min and died before its POST was answered
      await db.query('UPDATE alarms SET escalation_claimed_at = $2 WHERE id = $1', [a.id, T0 + 71 * MIN]);
      const before = got.length;
      expect(await escalateAlarms(db, url, 30 * MIN, T0 + 72 * MIN)).toEqual({ escalated: 0, failed: 0 });
      expect(await escalateAlarms(db, url, 30 * MIN, T0 + 71 * MIN + ESCALATION_CLAIM_MS)).toEqual({ escalated: 1, failed: 0 });
      expect(got.slice(before)).toMatchObject([{ alarm: { gatewayId: 'gw-9' } }]);
    });
  });
});
