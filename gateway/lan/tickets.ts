import { randomBytes } from 'node:crypto';
import type { Session } from '../store/people.ts';

const TTL_MS = 30_000;
const MAX_OUTSTANDING = 1000;

/**
 * One-use tickets for opening the live-event WebSocket. A browser cannot set headers on a WebSocket
 * upgrade, and a session token in a URL ends up in logs and histories; so the phone asks for a ticket
 * with its token (`POST /api/events/ticket`) and opens the socket with `?ticket=`: valid for 30 s,
 * once, and only while its session lasts.
 */
export class EventTickets {
  readonly #tickets = new Map<string, { session: Session; expires: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(session: Session): { ticket: string; expiresInS: number } {
    const now = this.#now();
    for (const [t, v] of this.#tickets) if (v.expires <= now) this.#tickets.delete(t);
    if (this.#tickets.size >= MAX_OUTSTANDING) this.#tickets.delete(this.#tickets.keys().next().value as string); // the oldest
    const ticket = randomBytes(24).toString('base64url');
    this.#tickets.set(ticket, { session, expires: now + TTL_MS });
    return { ticket, expiresInS: TTL_MS / 1000 };
  }

  /** The ticket's session, once; undefined if unknown, used, expired, or its session ended. */
  redeem(ticket: string, sessionActive: (sessionId: number) => boolean): Session | undefined {
    const entry = this.#tickets.get(ticket);
    if (!entry) return undefined;
    this.#tickets.delete(ticket);
    if (entry.expires <= this.#now() || !sessionActive(entry.session.sessionId)) return undefined;
    return entry.session;
  }
}
