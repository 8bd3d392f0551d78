import type { Queryable } from '../db/fleetDb.ts';
import { APPLY } from './apply.ts';
import { type HealthRow, type InvalidRow, insertHealth, insertInvalid, insertSignals, insertUsage, markSeen, type SignalRow, type UsageRow } from './bulk.ts';
import { checkMessage, type Outcome } from './records.ts';

export interface Incoming {
  readonly topic: string;
  readonly payload: Buffer;
}

export interface BatchResult {
  /** one per message, in order */
  readonly outcomes: Outcome[];
  /** the gateways whose `last_seen` this batch wrote */
  readonly seen: string[];
}

/**
 * Stores a batch of messages from gateways' streams inside the caller's transaction. Each is checked
 * against the protocol's zod type for its topic; a bad one is kept in `invalid_messages` (its first
 * 4 KB) and counted on its gateway, never thrown. Usage, health and maintenance signals are written
 * a table at a time; the other kinds one by one in the order they came. Every insert is keyed by the
 * record's idempotency key, so a redelivered message changes nothing.
 *
 * `recentlySeen(gatewayId)`: true when this process wrote the gateway's `last_seen` a moment ago, so
 * the row need not be locked again for a record (a gateway's hour is 10-100 records); a gateway
 * with an invalid message is always written, to count it.
 */
export async function storeBatch(
  tx: Queryable,
  messages: readonly Incoming[],
  now: number,
  recentlySeen: (gatewayId: string) => boolean = () => false,
): Promise<BatchResult> {
  const outcomes: Outcome[] = [];
  const usage: UsageRow[] = [];
  const health: HealthRow[] = [];
  const signals: SignalRow[] = [];
  const invalid: InvalidRow[] = [];
  const seen = new Map<string, number>();
  const rest: Array<() => Promise<void>> = [];
  for (const m of messages) {
    const c = checkMessage(m.topic, m.payload);
    if (!c.ok) {
      invalid.push(c);
      if (c.gatewayId) seen.set(c.gatewayId, (seen.get(c.gatewayId) ?? 0) + 1);
      outcomes.push({ stored: false, reason: c.reason });
      continue;
    }
    const t = c.topic;
    const r = c.record as never as { data: never; at: number };
    if (!seen.has(t.gatewayId) && !recentlySeen(t.gatewayId)) seen.set(t.gatewayId, 0);
    if (t.kind === 'usage') usage.push({ gatewayId: t.gatewayId, provider: t.provider, deviceRef: t.deviceRef, data: r.data });
    else if (t.kind === 'maintenance') signals.push({ gatewayId: t.gatewayId, provider: t.provider, deviceRef: t.deviceRef, data: r.data });
    else if (t.kind === 'health') health.push({ gatewayId: t.gatewayId, provider: t.provider, at: r.at, data: r.data });
    else {
      const apply = APPLY[t.kind] as (tx: Queryable, t: unknown, r: unknown, now: number) => Promise<void>;
      rest.push(() => apply(tx, t, c.record, now));
    }
    outcomes.push({ stored: true, kind: t.kind });
  }
  await insertUsage(tx, usage, now);
  await insertHealth(tx, health);
  await insertInvalid(tx, invalid, now);
  // before the records that update a gateway's row (status, manifest), which needs it to exist
  await markSeen(tx, seen, now);
  await insertSignals(tx, signals, now);
  for (const apply of rest) await apply();
  return { outcomes, seen: [...seen.keys()] };
}

/** Stores one message inside the caller's transaction: a batch of one. */
export async function storeMessage(tx: Queryable, topic: string, payload: Buffer, now: number): Promise<Outcome> {
  return (await storeBatch(tx, [{ topic, payload }], now)).outcomes[0] as Outcome;
}
