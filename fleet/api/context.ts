import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FleetConfig } from '../config.ts';
import type { FleetDb } from '../db/fleetDb.ts';
import type { IngestFailing } from '../ingest/health.ts';
import type { People, Role, User } from '../people.ts';

export type FleetApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** Who may call a route, declared in its own `config.allow`: anyone, or these roles. A route without it refuses everyone. */
export type Access = 'public' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    allow?: Access;
    /** the audit log's name for what this route does (every route that changes something has one) */
    audit?: string;
  }
  interface FastifyRequest {
    user: User | undefined;
  }
}

/** What the fleet API's routes read and drive. */
export interface FleetContext {
  readonly db: FleetDb;
  readonly people: People;
  readonly config: FleetConfig;
  readonly version: string;
  readonly now: () => number;
  /** whether this process's ingest is connected to the broker */
  readonly ingestConnected: () => boolean;
  /** while this process's ingest cannot commit: since when, and the database's SQLSTATE */
  readonly ingestFailing: () => IngestFailing | undefined;
}

/** Everyone who works the fleet's operations (not billing). */
export const OPERATIONS: readonly Role[] = ['admin', 'dispatcher'];
export const ANYONE: readonly Role[] = ['admin', 'dispatcher', 'technician', 'billing'];

/** The request's user; routes behind a role list always have one. */
export function who(req: { user: User | undefined }): User {
  if (!req.user) throw new Error('a route behind roles ran without a user');
  return req.user;
}

/** `technician:tess`, for ticket histories and commands */
export const actorOf = (u: Pick<User, 'role' | 'name'>) => `${u.role}:${u.name}`;

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}
