import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAudit, redact } from '../audit.ts';
import type { User } from '../people.ts';
import { actorOf, type FleetContext } from './context.ts';

const parse = (payload: unknown): Record<string, unknown> | undefined => {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined;
  try {
    return JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/** What an entry acted on: the route's parameters, else the id the answer created, else the body's subject. */
function targetOf(req: FastifyRequest, answer: Record<string, unknown> | undefined): string {
  const params = Object.values((req.params ?? {}) as Record<string, unknown>);
  if (params.length > 0) return params.join('/');
  const made = answer?.id ?? answer?.requestId;
  if (made !== undefined) return String(made);
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body.name === 'string') return body.name;
  return [body.gatewayId, body.deviceRef].filter((x) => typeof x === 'string').join('/');
}

/**
 * The audit log's writer: for a route that declares `config.audit`, one entry per answered request
 * of a signed-in person (and per sign-in attempt), written before the answer leaves, with who, what,
 * on what, the outcome, the body without secrets and a refusal's message. Requests without a person
 * (401) and rate-limited ones (429) are not the console's actions and are left out, so nobody can
 * fill the log without signing in. A failed write is logged; it does not undo the action.
 */
export function auditHook(ctx: FleetContext, onError: (err: Error, url: string) => void) {
  return async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const action = req.routeOptions.config?.audit;
    const signIn = action === 'session.signin';
    if (!action || reply.statusCode === 429 || (!req.user && !signIn)) return payload;
    const answer = parse(payload);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const signedIn = answer?.user as Pick<User, 'role' | 'name'> | undefined;
    const actor = req.user ? actorOf(req.user) : signedIn ? actorOf(signedIn) : `unknown:${String(body.name ?? '')}`;
    const detail: Record<string, unknown> = { body: redact(req.body ?? null) };
    if (reply.statusCode >= 400 && typeof answer?.message === 'string') detail.refused = answer.message;
    await recordAudit(ctx.db, { at: ctx.now(), actor, action, target: targetOf(req, answer), status: reply.statusCode, detail }).catch((err: Error) =>
      onError(err, req.url),
    );
    return payload;
  };
}
