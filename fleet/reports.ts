import type { Queryable } from './db/fleetDb.ts';

export type ReportGrouping = 'site' | 'customer' | 'model';

export interface TicketReportRow {
  readonly group: string | null;
  readonly tickets: number;
  readonly resolved: number;
  /** resolved (or closed after resolving) / all tickets opened in the period */
  readonly resolutionRate: number;
  /** resolved after one visit and never reopened / resolved */
  readonly firstTimeFixRate: number;
  /** mean hours from opening to resolving, of the resolved */
  readonly meanTimeToRepairH: number | null;
  readonly slaBreaches: number;
}

const GROUP: Record<ReportGrouping, string> = {
  site: 't.gateway_id',
  customer: 'g.customer',
  model: 'd.model',
};

/** Maintenance performance of the tickets opened in [from, to), by site, customer or device model. */
export async function ticketReport(db: Queryable, by: ReportGrouping, from: number, to: number, now: number): Promise<TicketReportRow[]> {
  const rows = await db.query<{ group: string | null; tickets: number; resolved: number; ftf: number; mttr_ms: number | null; breaches: number }>(
    `SELECT ${GROUP[by]} AS "group", count(*)::int AS tickets,
            count(t.resolution_code)::int AS resolved,
            count(*) FILTER (WHERE t.resolution_code IS NOT NULL AND t.visits <= 1 AND t.reopened = 0)::int AS ftf,
            avg(t.resolved_at - t.created_at) FILTER (WHERE t.resolved_at IS NOT NULL)::float AS mttr_ms,
            count(*) FILTER (WHERE coalesce(t.acknowledged_at, $3) > t.ack_due_at OR coalesce(t.resolved_at, $3) > t.resolve_due_at)::int AS breaches
     FROM tickets t
     LEFT JOIN gateways g ON g.gateway_id = t.gateway_id
     LEFT JOIN devices d ON d.gateway_id = t.gateway_id AND d.device_ref = t.device_ref
     WHERE t.created_at >= $1 AND t.created_at < $2
     GROUP BY 1 ORDER BY 1 NULLS LAST`,
    [from, to, now],
  );
  const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
  return rows.map((r) => ({
    group: r.group,
    tickets: r.tickets,
    resolved: r.resolved,
    resolutionRate: ratio(r.resolved, r.tickets),
    firstTimeFixRate: ratio(r.ftf, r.resolved),
    meanTimeToRepairH: r.mttr_ms === null ? null : Math.round((r.mttr_ms / 3_600_000) * 100) / 100,
    slaBreaches: r.breaches,
  }));
}
