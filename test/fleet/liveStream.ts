import { waitFor } from '../helpers/testGateway.ts';

export interface LiveStream {
  readonly status: number;
  /** every `change` event's topics, in arrival order */
  readonly changes: string[][];
  /** whether the server ended the stream */
  readonly ended: () => boolean;
  /** waits for a change event naming `topic` after the `from`-th one */
  next(topic: string, from?: number, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

/** GET /api/live read the way the console reads it: fetch with the Bearer token, the body parsed as server-sent events. */
export async function openLive(apiUrl: string, token: string | undefined, path = '/api/live'): Promise<LiveStream> {
  const abort = new AbortController();
  const res = await fetch(`${apiUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  const changes: string[][] = [];
  let ended = false;
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (/^event: change$/m.test(frame) && data) changes.push((JSON.parse(data) as { topics: string[] }).topics);
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // aborted by close()
      }
      ended = true;
    })();
  } else await res.text();
  return {
    status: res.status,
    changes,
    ended: () => ended,
    async next(topic, from = 0, timeoutMs = 10_000) {
      await waitFor(() => changes.slice(from).some((t) => t.includes(topic)), timeoutMs, `a live change of ${topic}`);
      return changes.slice(from).find((t) => t.includes(topic)) as string[];
    },
    close: () => abort.abort(),
  };
}
