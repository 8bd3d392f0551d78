import * as z from 'zod';
import { alarm } from '../../alarms.ts';
import { ticketReport } from '../../reports.ts';
import { listTickets, moveTicket, openTicket, TICKET_STATES, TicketError, ticket, ticketHistory, type TicketState } from '../../tickets.ts';
import { actorOf, type FleetApp, type FleetContext, HttpError, OPERATIONS, who } from '../context.ts';

const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
const ticketSchema = z.object({
  id: z.number(),
  gatewayId: z.string(),
  deviceRef: z.string(),
  alarmCode: z.string().nullable(),
  alarmId: z.number().nullable(),
  title: z.string(),
  priority: z.enum(PRIORITIES),
  state: z.enum(TICKET_STATES),
  assigneeId: z.number().nullable(),
  scheduledFor: z.number().nullable(),
  resolutionCode: z.string().nullable(),
  notes: z.string().nullable(),
  verifiedAt: z.number().nullable(),
  reopened: z.number(),
  visits: z.number(),
  createdAt: z.number(),
  acknowledgedAt: z.number().nullable(),
  resolvedAt: z.number().nullable(),
  closedAt: z.number().nullable(),
  ackDueAt: z.number(),
  resolveDueAt: z.number(),
  ackBreached: z.boolean(),
  resolveBreached: z.boolean(),
});
/** What a technician may do to its own tickets: plan the visit, work, resolve. */
const TECHNICIAN_MOVES: readonly TicketState[] = ['scheduled', 'in_progress', 'resolved'];

const asHttp = (err: unknown): never => {
  if (err instanceof TicketError) throw new HttpError(err.status, err.message);
  throw err;
};

export function ticketRoutes(app: FleetApp, ctx: FleetContext): void {
  const WORKERS = ['admin', 'dispatcher', 'technician'] as const;

  app.get('/api/tickets', {
    config: { allow: WORKERS },
    schema: {
      summary: 'Maintenance tickets, newest first (a technician sees its own only)',
      querystring: z.object({ state: z.enum(TICKET_STATES).optional(), gatewayId: z.string().max(128).optional() }),
      response: { 200: z.array(ticketSchema) },
    },
    handler: async (req) => {
      const u = who(req);
      return listTickets(ctx.db, { ...req.query, assigneeId: u.role === 'technician' ? u.id : undefined }, ctx.now());
    },
  });

  app.post('/api/tickets', {
    config: { allow: OPERATIONS, audit: 'ticket.open' },
    schema: {
      summary: 'Open a ticket by hand',
      body: z.strictObject({
        gatewayId: z.string().min(1).max(128),
        deviceRef: z.string().max(128).optional(),
        title: z.string().min(1).max(200),
        priority: z.enum(PRIORITIES).default('normal'),
        notes: z.string().max(4000).optional(),
        /** open it for this alarm: its site, device and code (reopened with it, verified when it stays cleared) */
        alarmId: z.number().int().optional(),
      }),
      response: { 201: ticketSchema },
    },
    handler: async (req, reply) => {
      const [known] = await ctx.db.query('SELECT 1 FROM gateways WHERE gateway_id = $1', [req.body.gatewayId]);
      if (!known) throw new HttpError(400, `gatewayId: no site ${req.body.gatewayId}`);
      let input: Parameters<typeof openTicket>[1] = req.body;
      if (req.body.alarmId !== undefined) {
        const a = await alarm(ctx.db, req.body.alarmId);
        if (!a || a.gatewayId !== req.body.gatewayId) throw new HttpError(400, `alarmId: no alarm ${req.body.alarmId} at ${req.body.gatewayId}`);
        input = { ...req.body, deviceRef: a.deviceRef, alarmCode: a.code };
      }
      const t = await ctx.db
        .transaction((tx) => openTicket(tx, input, ctx.config.tickets.sla, actorOf(who(req)), ctx.now()))
        .catch((err: Error) => {
          // the partial unique index: one ticket not closed per (site, device, alarm code)
          if (/tickets_one_open_per_alarm/.test(err.message)) throw new HttpError(409, 'this alarm has a ticket already');
          throw err;
        });
      return reply.code(201).send(t);
    },
  });

  app.get('/api/tickets/:id', {
    config: { allow: WORKERS },
    schema: {
      summary: 'One ticket and its history',
      params: z.object({ id: z.coerce.number().int() }),
      response: {
        200: z.object({
          ticket: ticketSchema,
          history: z.array(z.object({ at: z.number(), actor: z.string(), from: z.string().nullable(), to: z.string(), note: z.string().nullable() })),
        }),
      },
    },
    handler: async (req) => {
      const t = await ownTicket(ctx, req.params.id, who(req));
      return { ticket: t, history: await ticketHistory(ctx.db, t.id) };
    },
  });

  app.post('/api/tickets/:id/transition', {
    config: { allow: WORKERS, audit: 'ticket.move' },
    schema: {
      summary: 'Move a ticket on: assign (dispatcher), schedule, start work, resolve (with a resolution code), reopen or close',
      params: z.object({ id: z.coerce.number().int() }),
      body: z.strictObject({
        to: z.enum(TICKET_STATES),
        assigneeId: z.number().int().optional(),
        scheduledFor: z.number().int().optional(),
        resolutionCode: z.string().min(1).max(64).optional(),
        notes: z.string().max(4000).optional(),
      }),
      response: { 200: ticketSchema },
    },
    handler: async (req) => {
      const u = who(req);
      await ownTicket(ctx, req.params.id, u);
      if (u.role === 'technician' && (!TECHNICIAN_MOVES.includes(req.body.to) || req.body.assigneeId !== undefined))
        throw new HttpError(403, `a technician may move its tickets to ${TECHNICIAN_MOVES.join(', ')}; assigning is the dispatcher's`);
      return ctx.db.transaction((tx) => moveTicket(tx, req.params.id, req.body, actorOf(u), ctx.now())).catch(asHttp);
    },
  });

  app.get('/api/reports/tickets', {
    config: { allow: OPERATIONS },
    schema: {
      summary: 'Resolution rate, first-time-fix rate, mean time to repair and SLA breaches of the tickets opened in [from, to)',
      querystring: z.object({
        by: z.enum(['site', 'customer', 'model']).default('site'),
        from: z.coerce.number().int().default(0),
        to: z.coerce.number().int().optional(),
      }),
      response: {
        200: z.array(
          z.object({
            group: z.string().nullable(),
            tickets: z.number(),
            resolved: z.number(),
            resolutionRate: z.number(),
            firstTimeFixRate: z.number(),
            meanTimeToRepairH: z.number().nullable(),
            slaBreaches: z.number(),
          }),
        ),
      },
    },
    handler: (req) => ticketReport(ctx.db, req.query.by, req.query.from, req.query.to ?? ctx.now() + 1, ctx.now()),
  });
}

/** The ticket, if this user may see it: a technician's own only (another's is 404, not 403: its existence is not theirs to know). */
async function ownTicket(ctx: FleetContext, id: number, u: { id: number; role: string }) {
  const t = await ticket(ctx.db, id, ctx.now());
  if (!t || (u.role === 'technician' && t.assigneeId !== u.id)) throw new HttpError(404, `no ticket ${id}`);
  return t;
}
