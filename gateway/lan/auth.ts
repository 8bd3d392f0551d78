import type { FastifyReply, FastifyRequest } from 'fastify';
import { atLeast, type People } from './people.ts';

/**
 * Every /api/ route and /metrics needs a bearer token unless its config says `role: 'none'`; a route may ask for a
 * higher role (member, owner). 401 without a valid token, 403 with a role too low. WebSocket upgrades
 * (browsers cannot set headers on them) may carry the token as `?token=`.
 */
export function authHook(people: People) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const path = req.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/') && path !== '/metrics') return; // the UI's own files are public; data is not
    const needed = req.routeOptions.config?.role ?? 'guest';
    if (needed === 'none') return;
    const header = req.headers.authorization;
    const fromQuery = (req.query as { token?: unknown } | undefined)?.token;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : typeof fromQuery === 'string' && req.headers.upgrade === 'websocket' ? fromQuery : undefined;
    const session = token ? people.authenticate(token) : undefined;
    if (!session) {
      await reply.code(401).send({ error: 'unauthorized', message: token ? 'the token is not valid (revoked or unknown); pair again or sign in' : 'sign in first: send Authorization: Bearer <token>' });
      return;
    }
    req.session = session;
    if (!atLeast(session.user.role, needed)) {
      await reply.code(403).send({ error: 'forbidden', message: `this needs the ${needed} role; you are ${session.user.role}` });
    }
  };
}

/** Who made a request, for the audit log: `owner:Olive`. */
export function actor(req: FastifyRequest): string {
  const user = req.session?.user;
  return user ? `${user.role}:${user.name}` : 'anonymous';
}
