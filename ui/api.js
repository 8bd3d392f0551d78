// Talking to the gateway: REST with the session token, and the live event stream.
const TOKEN = 'trellis.token';

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  set(token) { localStorage.setItem(TOKEN, token); },
  clear() { localStorage.removeItem(TOKEN); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** fetch JSON from /api; a 401 sends the phone to pairing. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401 && !path.startsWith('/api/pair') && !path.startsWith('/api/login')) {
    session.clear();
    location.hash = '#/pair';
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Live events; reconnects after a drop. Returns a function that closes it. */
export function liveEvents(onEvent, onState) {
  let socket;
  let closed = false;
  let retry = 500;
  const open = () => {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${proto}://${location.host}/api/events?token=${encodeURIComponent(session.token ?? '')}`);
    socket.onopen = () => { retry = 500; onState(true); };
    socket.onmessage = (m) => onEvent(JSON.parse(m.data));
    socket.onclose = (e) => {
      onState(false);
      if (e.code === 4001) { // the gateway ended this phone's session (revoked, or the person removed)
        session.clear();
        location.hash = '#/pair';
        return;
      }
      if (!closed) setTimeout(open, retry = Math.min(retry * 2, 10000));
    };
  };
  open();
  return () => { closed = true; socket?.close(); };
}
