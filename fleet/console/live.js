// Live updates: one stream per tab from GET /api/live (fetch with the Bearer token: EventSource
// cannot send it), naming the topics that changed; each page subscribes to the topics it shows and
// reloads them through the API. The stream reconnects on its own; after a reconnect every page
// reloads, since changes may have been missed.
import { session } from './api.js';

const subscribers = new Set();
const watchers = new Set();
let status = 'off';
let running = false;
let connectedBefore = false;
let backoff = 1000;

const setStatus = (s) => {
  status = s;
  for (const fn of watchers) fn(s);
};
const dispatch = (topics) => {
  for (const s of subscribers) if (topics === 'all' || topics.some((t) => s.topics.includes(t))) s.fn();
};

/** Calls `fn` whenever one of `topics` changes; returns the unsubscribe. */
export function onChange(topics, fn) {
  const s = { topics, fn };
  subscribers.add(s);
  if (!running) void connect();
  return () => subscribers.delete(s);
}

/** Calls `fn` with the stream's state: 'live', 'reconnecting' or 'off'. */
export function onStatus(fn) {
  watchers.add(fn);
  fn(status);
  return () => watchers.delete(fn);
}

async function connect() {
  const token = session.token;
  if (!token) {
    running = false;
    setStatus('off');
    return;
  }
  running = true;
  try {
    const res = await fetch('/api/live', { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 401 && session.token === token) {
      session.clear();
      location.hash = '#/signin';
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (/^event: hello$/m.test(frame)) {
          setStatus('live');
          backoff = 1000;
          if (connectedBefore) dispatch('all');
          connectedBefore = true;
        } else if (data && /^event: change$/m.test(frame)) dispatch(JSON.parse(data).topics);
      }
    }
  } catch {
    // the network went, or the server stopped: try again below
  }
  if (session.token !== token) {
    // signed out, or in again as someone: a new stream for the new token, or none
    connectedBefore = false;
    backoff = 1000;
    if (session.token && subscribers.size > 0) return void connect();
    running = false;
    setStatus('off');
    return;
  }
  setStatus('reconnecting');
  setTimeout(connect, backoff);
  backoff = Math.min(backoff * 2, 30_000);
}
