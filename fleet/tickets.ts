import type { FleetConfig, Priority } from './config.ts';
import { clearAlarm } from './alarms.ts';
import type { Queryable } from './db/fleetDb.ts';

export const TICKET_STATES = ['open', 'assigned', 'scheduled', 'in_progress', 'resolved', 'closed'] as const;
export type TicketState = (typeof TICKET_STATES)[number];

/** Which state may follow which. Any ticket not closed may be closed (cancelled, with a note); a resolved one may be reopened. */
const NEXT: Record<TicketState, readonly TicketState[]> = {
  open: ['assigned', 'closed'],
  assigned: ['open', 'scheduled', 'in_progress', 'closed'],
  scheduled: ['assigned', 'in_progress', 'closed'],
  in_progress: ['scheduled', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: [],
};

export interface Ticket {
  readonly id: number;
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly alarmCode: string | null;
  readonly alarmId: number | null;
  readonly title: string;
  readonly priority: Priority;
  readonly state: TicketState;
  readonly assigneeId: number | null;
  readonly scheduledFor: number | null;
  readonly resolutionCode: string | null;
  readonly notes: string | null;
  readonly verifiedAt: number | null;
  readonly reopened: number;
  readonly visits: number;
  readonly createdAt: number;
  readonly acknowledgedAt: number | null;
  readonly resolvedAt: number | null;
  readonly closedAt: number | null;
  readonly ackDueAt: number;
  readonly resolveDueAt: number;
  /** SLA breaches, as of the time of the query */
  readonly ackBreached: boolean;
  readonly resolveBreached: boolean;
}

const columns = (
  now: string,
) => `id, gateway_id AS "gatewayId", device_ref AS "deviceRef", alarm_code AS "alarmCode", alarm_id AS "alarmId", title, priority, state,
  assignee_id AS "assigneeId", scheduled_for AS "scheduledFor", resolution_code AS "resolutionCode", notes, verified_at AS "verifiedAt", reopened, visits,
  created_at AS "createdAt", acknowledged_at AS "acknowledgedAt", resolved_at AS "resolvedAt", closed_at AS "closedAt", ack_due_at AS "ackDueAt",
  resolve_due_at AS "resolveDueAt", coalesce(acknowledged_at, ${now}) > ack_due_at AS "ackBreached", coalesce(resolved_at, ${now}) > resolve_due_at AS "resolveBreached"`;

export class TicketError extends Error {
  readonly code = 'TRELLIS_FLEET_E_TICKET';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 409,
  ) {
    super(message);
  }
}

export interface TicketInput {
  readonly gatewayId: string;
  readonly deviceRef?: string | undefined;
  readonly title: string;
  readonly priority: Priority;
  readonly alarmCode?: string | undefined;
  readonly alarmId?: number | undefined;
  readonly notes?: string | undefined;
}

type Sla = FleetConfig['tickets']['sla'];

export async function openTicket(tx: Queryable, t: TicketInput, sla: Sla, actor: string, now: number): Promise<Ticket> {
  const target = sla[t.priority];
  const [row] = await tx.query<{ id: number }>(
    `INSERT INTO tickets (gateway_id, device_ref, alarm_code, alarm_id, title, priority, state, notes, created_at, ack_due_at, resolve_due_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10) RETURNING id`,
    [
      t.gatewayId,
      t.deviceRef ?? '',
      t.alarmCode ?? null,
      t.alarmId ?? null,
      t.title,
      t.priority,
      t.notes ?? null,
      now,
      now + target.acknowledgeMinutes * 60_000,
      now + target.resolveMinutes * 60_000,
    ],
  );
  const id = (row as { id: number }).id;
  await event(tx, id, now, actor, null, 'open', t.notes);
  return (await ticket(tx, id, now)) as Ticket;
}

export async function ticket(db: Queryable, id: number, now: number): Promise<Ticket | undefined> {
  return (await db.query<Ticket>(`SELECT ${columns('$2')} FROM tickets WHERE id = $1`, [id, now]))[0];
}

export interface TicketFilter {
  readonly state?: TicketState | undefined;
  readonly assigneeId?: number | undefined;
  readonly gatewayId?: string | undefined;
}

export async function listTickets(db: Queryable, f: TicketFilter, now: number): Promise<Ticket[]> {
  return db.query<Ticket>(
    `SELECT ${columns('$4')} FROM tickets WHERE ($1::text IS NULL OR state = $1) AND ($2::bigint IS NULL OR assignee_id = $2) AND ($3::text IS NULL OR gateway_id = $3)
     ORDER BY id DESC LIMIT 1000`,
    [f.state ?? null, f.assigneeId ?? null, f.gatewayId ?? null, now],
  );
}

export interface Transition {
  readonly to: TicketState;
  readonly assigneeId?: number | undefined;
  readonly scheduledFor?: number | undefined;
  readonly resolutionCode?: string | undefined;
  readonly notes?: string | undefined;
}

/**
 * Moves a ticket to its next state. Leaving `open` the first time acknowledges it (the SLA's first
 * target); each start of work is a visit (first-time fix: resolved after one visit, never reopened);
 * resolving needs a resolution code and clears the alarm that opened it, and the ticket waits for
 * verification (its alarm staying cleared) before it closes. Back to open from assigned unassigns it;
 * a reopened (resolved) ticket keeps its technician.
 */
export async function moveTicket(tx: Queryable, id: number, t: Transition, actor: string, now: number): Promise<Ticket> {
  const [row] = await tx.query<{ state: TicketState; gateway_id: string; device_ref: string; alarm_code: string | null; assignee_id: number | null }>(
    'SELECT state, gateway_id, device_ref, alarm_code, assignee_id FROM tickets WHERE id = $1 FOR UPDATE',
    [id],
  );
  if (!row) throw new TicketError(`no ticket ${id}`, 404);
  if (!NEXT[row.state].includes(t.to))
    throw new TicketError(`ticket ${id} is ${row.state}: it can go to ${NEXT[row.state].join(', ') || 'nothing (closed)'}, not ${t.to}`);
  if (t.to === 'assigned' && t.assigneeId === undefined && row.assignee_id === null) throw new TicketError('assigneeId: assigning needs a technician', 400);
  if (t.to === 'scheduled' && t.scheduledFor === undefined) throw new TicketError('scheduledFor: scheduling needs a time', 400);
  if (t.to === 'resolved' && !t.resolutionCode) throw new TicketError('resolutionCode: resolving needs a resolution code', 400);
  if (t.assigneeId !== undefined) {
    const [tech] = await tx.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [t.assigneeId]);
    if (!tech) throw new TicketError(`assigneeId: no user ${t.assigneeId}`, 400);
  }
  await tx.query(
    `UPDATE tickets SET state = $2,
       assignee_id = CASE WHEN $2 = 'open' AND $8 <> 'resolved' THEN NULL ELSE coalesce($3, assignee_id) END,
       scheduled_for = coalesce($4, scheduled_for),
       resolution_code = CASE WHEN $2 = 'resolved' THEN $5 WHEN $2 = 'open' THEN NULL ELSE resolution_code END,
       notes = coalesce($6, notes),
       acknowledged_at = CASE WHEN $2 <> 'closed' THEN coalesce(acknowledged_at, $7) ELSE acknowledged_at END,
       visits = visits + CASE WHEN $2 = 'in_progress' THEN 1 ELSE 0 END,
       resolved_at = CASE WHEN $2 = 'resolved' THEN $7 WHEN $2 = 'open' THEN NULL ELSE resolved_at END,
       reopened = reopened + CASE WHEN $2 = 'open' AND $8 = 'resolved' THEN 1 ELSE 0 END,
       closed_at = CASE WHEN $2 = 'closed' THEN $7 ELSE NULL END
     WHERE id = $1`,
    [id, t.to, t.assigneeId ?? null, t.scheduledFor ?? null, t.resolutionCode ?? null, t.notes ?? null, now, row.state],
  );
  if (t.to === 'resolved' && row.alarm_code) await clearAlarm(tx, row.gateway_id, row.device_ref, row.alarm_code, now);
  await event(tx, id, now, actor, row.state, t.to, t.notes);
  return (await ticket(tx, id, now)) as Ticket;
}

async function event(tx: Queryable, id: number, at: number, actor: string, from: TicketState | null, to: TicketState, note: string | undefined) {
  await tx.query('INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    at,
    actor,
    from,
    to,
    note ?? null,
  ]);
}

export async function ticketHistory(db: Queryable, id: number) {
  return db.query<{ at: number; actor: string; from: string | null; to: string; note: string | null }>(
    'SELECT at, actor, from_state AS "from", to_state AS "to", note FROM ticket_events WHERE ticket_id = $1 ORDER BY id',
    [id],
  );
}
