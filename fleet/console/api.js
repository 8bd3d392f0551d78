// Talking to trellis-fleet: REST with the bearer token from sign-in (kept for this browser tab only).
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
const TOKEN = 'trellis-fleet.token';
const USER = 'trellis-fleet.user';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  get user() {
    const u = sessionStorage.getItem(USER);
    return u ? JSON.parse(u) : null;
  },
  set(token, user) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(USER, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
  }
}

/** JSON from /api; a 401 (signed out elsewhere, user removed) goes back to sign-in. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: `trellis-fleet answered ${res.status} with something that is not JSON` };
  }
  if (res.status === 401 && path !== '/api/login') {
    session.clear();
    location.hash = '#/signin';
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const fmtTime = (ts) => (ts ? new Date(ts).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : '–');

/** "12 min", "3 h 5 min", "2 days": a duration in words. */
export function fmtDuration(ms) {
  const min = Math.round(Math.abs(ms) / 60000);
  if (min < 60) return `${min} min`;
  if (min < 48 * 60) return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `${Math.round(min / 1440)} days`;
}

/** An alarm code in plain words. */
export function alarmTitle(code) {
  const words = {
    'gateway.offline': 'Gateway offline',
    'device.offline': 'Device offline',
    'usage.gap': 'Usage data missing (asked the gateway to resend)',
    'maintenance.duty_cycle': 'Compressor running much of the time',
    'maintenance.starts_per_hour': 'Compressor starting often',
    'maintenance.recovery_time': 'Slow to cool down after the door closed',
    'maintenance.drift': 'Drifting from its usual temperature',
    'maintenance.descale_needed': 'Needs descaling',
    maintenance: 'Maintenance',
    gateway: 'Gateway',
  };
  if (words[code]) return words[code];
  if (code.startsWith('rule.')) return `Rule "${code.slice(5)}"`;
  return code;
}

/**
 * A ticket's SLA state: breached (past a target), at risk (three quarters of the time to resolve
 * gone), or on time.
 */
export function slaState(t, now = Date.now()) {
  if (t.ackBreached || t.resolveBreached) return 'breached';
  if (t.state === 'resolved' || t.state === 'closed') return 'on time';
  return now - t.createdAt >= 0.75 * (t.resolveDueAt - t.createdAt) ? 'at risk' : 'on time';
}

/** The customers of these sites, each once, in order. */
export const customersOf = (sites) => [...new Set(sites.map((s) => s.customer).filter(Boolean))].sort();

/** A site whose gateway has more than 100 records waiting, or its oldest waiting over 10 minutes. */
export const fallingBehind = (s) => (s.outboxDepth ?? 0) > 100 || (s.outboxLagS ?? 0) > 600;
