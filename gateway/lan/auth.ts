import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HostCheck } from '../net/names.ts';
import { splitHostHeader } from '../net/names.ts';
import { atLeast, type People, type Role } from '../store/people.ts';
import type { EventTickets } from './tickets.ts';

/** Who may call a route, declared in the route's own `config.access`: anyone, or the least role. */
export type Access = 'public' | Role;

/**
 * The door of the LAN API, run on every request before anything else:
 * 1. the Host must be one of the gateway's own names or addresses (421 otherwise: DNS rebinding);
 * 2. a WebSocket upgrade must come from the gateway's own origin when it names one (403);
 * 3. the route the router matched must declare `config.access`; a route that declares nothing
 *    refuses everyone (default deny). The decision uses that matched route, never the URL's text, so
 *    `/%61pi/members` is `/api/members` and needs what `/api/members` needs.
 * Tokens arrive as `Authorization: Bearer` only. A WebSocket upgrade (where browsers cannot set
 * headers) carries a one-use `?ticket=` instead (EventTickets), so no token is ever in a URL. 401
 * without a valid token or ticket, 403 with a role too low.
 */
export function accessHook(people: People, hosts: HostCheck, tickets: EventTickets) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!hosts.allows(req.headers.host)) {
      await reply.code(421).send({
        error: 'misdirected',
        message: `Host ${JSON.stringify((req.headers.host ?? '').slice(0, 100))} is not a name of this gateway (add it to lan.hostnames if you reach the gateway by it)`,
      });
      return;
    }
    const upgrade = req.headers.upgrade?.toLowerCase() === 'websocket';
    if (upgrade && !sameOrigin(req.headers.origin, req.headers.host)) {
      await reply.code(403).send({ error: 'forbidden', message: 'WebSocket from a foreign origin' });
      return;
    }
    if (req.is404) return; // no route matched: the not-found handler answers, with nothing behind it
    const access = req.routeOptions.config?.access;
    if (access === undefined) {
      await reply.code(403).send({ error: 'forbidden', message: 'this route declares no access, so nobody may use it' });
      return;
    }
    if (access === 'public') return;
    const header = req.headers.authorization;
    const ticket = upgrade ? (req.query as { ticket?: unknown } | undefined)?.ticket : undefined;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const session = token ? people.authenticate(token) : typeof ticket === 'string' ? tickets.redeem(ticket, (id) => people.sessionActive(id)) : undefined;
    if (!session) {
      const message = token
        ? 'the token is not valid (revoked or unknown); pair again or sign in'
        : typeof ticket === 'string'
          ? 'the ticket is not valid (used, expired, or its session ended); ask POST /api/events/ticket for a new one'
          : 'sign in first: send Authorization: Bearer <token>';
      await reply.code(401).send({ error: 'unauthorized', message });
      return;
    }
    req.session = session;
    if (!atLeast(session.user.role, access)) {
      await reply.code(403).send({ error: 'forbidden', message: `this needs the ${access} role; you are ${session.user.role}` });
    }
  };
}

/** No Origin (not a browser), or an Origin whose host and port are the Host the request was sent to. */
function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const want = host ? splitHostHeader(host) : undefined;
  const got = splitHostHeader(url.host);
  if (!want || !got) return false;
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  return got.host === want.host && (got.port ?? defaultPort) === (want.port ?? defaultPort);
}

/** Who made a request, for the audit log: `owner:Olive`. */
export function actor(req: FastifyRequest): string {
  const user = req.session?.user;
  return user ? `${user.role}:${user.name}` : 'anonymous';
}
