import { randomBytes } from 'node:crypto';
import type { CommandResultData } from '../protocol/index.ts';
import type { Queryable } from './db/fleetDb.ts';
import { nextLocalTime } from './localTime.ts';

export type CommandState = 'created' | 'sent' | 'succeeded' | 'failed' | 'rejected' | 'timed_out' | 'expired';

/** The gateway's answer as the command's final state: refused (no grant, a protected rule, a safety limit) and invalid are rejections. */
export function commandState(status: CommandResultData['status']): CommandState {
  return status === 'done' ? 'succeeded' : status === 'failed' ? 'failed' : 'rejected';
}

export interface CommandInput {
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly attribute: string;
  readonly value: number | boolean | string;
  readonly createdBy: string;
  /** not sent before this (a bulk job's local time) */
  readonly notBefore?: number | undefined;
  /** a command still unsent at this time (its gateway offline) expires */
  readonly expiresAt: number;
  readonly jobId?: number | undefined;
}

export interface Command {
  readonly requestId: string;
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly attribute: string;
  readonly value: unknown;
  readonly state: CommandState;
  readonly reason: string | null;
  readonly jobId: number | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly notBefore: number;
  readonly expiresAt: number;
  readonly sentAt: number | null;
  readonly finishedAt: number | null;
}

const COLUMNS = `request_id AS "requestId", gateway_id AS "gatewayId", device_ref AS "deviceRef", attribute, value, state, reason, job_id AS "jobId",
  created_by AS "createdBy", created_at AS "createdAt", not_before AS "notBefore", expires_at AS "expiresAt", sent_at AS "sentAt", finished_at AS "finishedAt"`;

export async function createCommand(tx: Queryable, c: CommandInput, now: number): Promise<Command> {
  const requestId = `c-${randomBytes(9).toString('base64url')}`;
  const rows = await tx.query<Command>(
    `INSERT INTO commands (request_id, gateway_id, device_ref, attribute, value, state, job_id, created_by, created_at, not_before, expires_at)
     VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
    [requestId, c.gatewayId, c.deviceRef, c.attribute, JSON.stringify(c.value), c.jobId ?? null, c.createdBy, now, c.notBefore ?? now, c.expiresAt],
  );
  return rows[0] as Command;
}

export async function command(db: Queryable, requestId: string): Promise<Command | undefined> {
  return (await db.query<Command>(`SELECT ${COLUMNS} FROM commands WHERE request_id = $1`, [requestId]))[0];
}

export async function listCommands(
  db: Queryable,
  filter: { gatewayId?: string | undefined; deviceRef?: string | undefined; jobId?: number | undefined; limit?: number },
): Promise<Command[]> {
  return db.query<Command>(
    `SELECT ${COLUMNS} FROM commands WHERE ($1::text IS NULL OR gateway_id = $1) AND ($2::text IS NULL OR device_ref = $2) AND ($3::bigint IS NULL OR job_id = $3)
     ORDER BY created_at DESC, request_id LIMIT $4`,
    [filter.gatewayId ?? null, filter.deviceRef ?? null, filter.jobId ?? null, filter.limit ?? 500],
  );
}

export interface JobInput {
  readonly name: string;
  readonly attribute: string;
  readonly value: number | boolean | string;
  /** which granted devices: all of a model, of a kind, on these sites (all given must match) */
  readonly filter: { readonly model?: string | undefined; readonly kind?: string | undefined; readonly gatewayIds?: readonly string[] | undefined };
  /** `HH:MM` in each site's local time (its manifest's zone; UTC when unknown), or now */
  readonly localTime?: string | undefined;
  readonly expiresAfterMs: number;
  readonly createdBy: string;
}

/**
 * A bulk command: one command per granted device that matches the filter and can take the
 * attribute (its manifest lists it among the provider's commands), each with its own result; a site's commands are not sent
 * before its local time.
 */
export async function createJob(tx: Queryable, j: JobInput, now: number): Promise<{ id: number; commands: number }> {
  const [job] = await tx.query<{ id: number }>(
    'INSERT INTO jobs (name, attribute, value, filter, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
    [j.name, j.attribute, JSON.stringify(j.value), JSON.stringify({ ...j.filter, localTime: j.localTime }), j.createdBy, now],
  );
  const id = (job as { id: number }).id;
  const targets = await tx.query<{ gateway_id: string; device_ref: string; time_zone: string | null }>(
    `SELECT d.gateway_id, d.device_ref, g.time_zone FROM devices d JOIN gateways g USING (gateway_id)
     WHERE d.access = 'granted' AND d.commands ? $1
       AND ($2::text IS NULL OR d.model = $2) AND ($3::text IS NULL OR d.kind = $3) AND ($4::text[] IS NULL OR d.gateway_id = ANY($4::text[]))
     ORDER BY d.gateway_id, d.device_ref`,
    [j.attribute, j.filter.model ?? null, j.filter.kind ?? null, j.filter.gatewayIds ?? null],
  );
  for (const t of targets) {
    const notBefore = j.localTime ? nextLocalTime(j.localTime, t.time_zone ?? 'UTC', now) : now;
    await createCommand(
      tx,
      {
        gatewayId: t.gateway_id,
        deviceRef: t.device_ref,
        attribute: j.attribute,
        value: j.value,
        createdBy: j.createdBy,
        notBefore,
        expiresAt: notBefore + j.expiresAfterMs,
        jobId: id,
      },
      now,
    );
  }
  return { id, commands: targets.length };
}

export interface JobProgress {
  readonly id: number;
  readonly name: string;
  readonly total: number;
  /** commands per state */
  readonly states: Partial<Record<CommandState, number>>;
  /** finished (any final state) / total */
  readonly done: number;
}

export async function jobProgress(db: Queryable, id: number): Promise<JobProgress | undefined> {
  const [job] = await db.query<{ id: number; name: string }>('SELECT id, name FROM jobs WHERE id = $1', [id]);
  if (!job) return undefined;
  const rows = await db.query<{ state: CommandState; n: number }>('SELECT state, count(*)::int AS n FROM commands WHERE job_id = $1 GROUP BY state', [id]);
  const states = Object.fromEntries(rows.map((r) => [r.state, r.n])) as Partial<Record<CommandState, number>>;
  const total = rows.reduce((a, r) => a + r.n, 0);
  const open = (states.created ?? 0) + (states.sent ?? 0);
  return { id: job.id, name: job.name, total, states, done: total === 0 ? 1 : (total - open) / total };
}
