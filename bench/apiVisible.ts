// End-to-end lag as a dispatcher sees it: gateway publish -> the row committed -> visible in the
// fleet's API. While records are published at a steady rate, one sampled record at a time is looked
// for through the worker's own API (its site's month of usage, `GET /api/usage`, as the console asks
// it) until its device's covered hours rise; one sample every `everyMs`, so the probe's requests stay
// a small load next to the ingest it measures.
import type { Wire } from '../firmware-sim/fleetSim/records.ts';

export interface VisibleOptions {
  readonly apiUrl: string;
  readonly token: string;
  /** the month the records are in, YYYY-MM */
  readonly month: string;
  readonly wire: readonly Wire[];
  /** each record's id in `sentAt`, in the order of `wire` */
  readonly ids: readonly string[];
  readonly sentAt: ReadonlyMap<string, number>;
  /** how many of `wire` are sent so far (they go in order) */
  readonly sent: () => number;
  readonly rate: number;
  readonly everyMs: number;
  /** how long a sample is looked for before it counts as unseen (10 s) */
  readonly timeoutMs?: number;
  /**
   * a sampled record's device sent nothing in this long before it (1 s), so the rise the probe waits
   * for is this record's and not an earlier one's still on its way
   */
  readonly quietMs?: number;
}

export interface Visible {
  /** ms from each sampled record's publish until the API answered with it, sorted */
  readonly lags: number[];
  /** samples not seen in the API within the timeout */
  readonly unseen: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function visibleLags(o: VisibleOptions): Promise<Visible> {
  const lags: number[] = [];
  let unseen = 0;
  // a record far enough ahead that its device's hours are read before it is sent
  const ahead = Math.ceil(o.rate * 0.05) + 1;
  const quiet = Math.ceil((o.rate * (o.quietMs ?? 1_000)) / 1_000);
  while (o.sent() < o.wire.length) {
    let k = o.sent() + ahead;
    while (k < o.wire.length && sentBefore(o.wire, k, quiet)) k++;
    const w = o.wire[k];
    if (!w) break;
    const [gatewayId, deviceRef] = siteAndDevice(w);
    const before = await coveredHours(o, gatewayId, deviceRef);
    if (o.sent() > k) continue; // it went out while the hours were read: not a clean sample
    while (o.sent() <= k) await sleep(1);
    const sentAt = o.sentAt.get(o.ids[k] as string) as number;
    let seen = false;
    while (Date.now() - sentAt < (o.timeoutMs ?? 10_000)) {
      if ((await coveredHours(o, gatewayId, deviceRef)) > before) {
        lags.push(Date.now() - sentAt);
        seen = true;
        break;
      }
      await sleep(2);
    }
    if (!seen) unseen++;
    await sleep(o.everyMs);
  }
  return { lags: lags.sort((a, b) => a - b), unseen };
}

/** Whether the device of `wire[k]` has a record among the `span` before it. */
function sentBefore(wire: readonly Wire[], k: number, span: number): boolean {
  const topic = (wire[k] as Wire).topic;
  for (let i = Math.max(0, k - span); i < k; i++) if ((wire[i] as Wire).topic === topic) return true;
  return false;
}

/** trellis/v1/<gatewayId>/p/<provider>/usage/<deviceRef> */
function siteAndDevice(w: Wire): [string, string] {
  const parts = w.topic.split('/');
  return [parts[2] as string, parts.at(-1) as string];
}

async function coveredHours(o: VisibleOptions, gatewayId: string, deviceRef: string): Promise<number> {
  const res = await fetch(`${o.apiUrl}/api/usage?month=${o.month}&gatewayId=${encodeURIComponent(gatewayId)}`, {
    headers: { authorization: `Bearer ${o.token}` },
  });
  if (res.status !== 200) throw new Error(`GET /api/usage for ${gatewayId}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  const rows = (await res.json()) as Array<{ deviceRef: string; hoursCovered: number }>;
  return rows.find((r) => r.deviceRef === deviceRef)?.hoursCovered ?? 0;
}
