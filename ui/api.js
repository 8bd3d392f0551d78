// Talking to the gateway: REST with the session token, and the live event stream.
const TOKEN = 'trellis.token';

export const session = {
  get token() {
    return localStorage.getItem(TOKEN);
  },
  set(token) {
    localStorage.setItem(TOKEN, token);
  },
  clear() {
    localStorage.removeItem(TOKEN);
  },
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
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: `the gateway answered ${res.status} with something that is not JSON` };
  }
  if (res.status === 401 && !path.startsWith('/api/pair') && !path.startsWith('/api/login')) {
    session.clear();
    location.hash = '#/pair';
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Downloads a file from the API (a GET, or a POST with a JSON body); an error answer is reported, never saved as the file. */
export async function download(path, name, { body, type = 'application/zip' } = {}) {
  const headers = session.token ? { authorization: `Bearer ${session.token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith(type)) {
    let message = `HTTP ${res.status}`;
    try {
      message = (await res.json()).message ?? message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, { message: `the download failed: ${message}` });
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/**
 * Live events; reconnects after a drop. The socket opens with a one-use ticket (the session token
 * never goes into a URL). Returns a function that closes it.
 */
export function liveEvents(onEvent, onState) {
  let socket;
  let closed = false;
  let retry = 500;
  const again = () => {
    if (!closed) setTimeout(open, (retry = Math.min(retry * 2, 10000)));
  };
  const open = async () => {
    let ticket;
    try {
      ({ ticket } = await api('/api/events/ticket', { method: 'POST' }));
    } catch {
      onState(false);
      again();
      return;
    }
    if (closed) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${proto}://${location.host}/api/events?ticket=${encodeURIComponent(ticket)}`);
    socket.onopen = () => {
      retry = 500;
      onState(true);
    };
    socket.onmessage = (m) => onEvent(JSON.parse(m.data));
    socket.onclose = (e) => {
      onState(false);
      if (e.code === 4001) {
        // the gateway ended this phone's session (revoked, or the person removed)
        session.clear();
        location.hash = '#/pair';
        return;
      }
      again();
    };
  };
  open();
  return () => {
    closed = true;
    socket?.close();
  };
}
