/**
 * A typed event bus whose subscriptions are keyed by their owner (Zigbee2MQTT's
 * `eventBus.onX(this, fn)` / `removeListeners(this)`): a service subscribes with itself as the owner
 * and releases everything it subscribed with one `off(this)` in its `stop()`. A listener that throws
 * is reported with its owner and the event's name; the other listeners still run.
 */
export type Listener<T> = (payload: T) => void;

/** Whoever holds subscriptions: a service (logged by its class name) or a named object. */
export type Owner = object;

export interface ListenerFailure {
  readonly owner: string;
  readonly event: string;
  readonly err: unknown;
}

export function ownerName(owner: Owner): string {
  const named = (owner as { name?: unknown }).name;
  if (typeof named === 'string' && named !== '') return named;
  return owner.constructor?.name ?? 'anonymous';
}

export class EventBus<Events extends object> {
  readonly #listeners = new Map<keyof Events, Map<Owner, Array<Listener<never>>>>();
  readonly #onFailure: (failure: ListenerFailure) => void;
  #failures = 0;

  /** `onFailure` is told of every listener that throws (the gateway logs it). */
  constructor(onFailure: (failure: ListenerFailure) => void) {
    this.#onFailure = onFailure;
  }

  on<K extends keyof Events>(owner: Owner, event: K, listener: Listener<Events[K]>): void {
    let owners = this.#listeners.get(event);
    if (!owners) this.#listeners.set(event, (owners = new Map()));
    let list = owners.get(owner);
    if (!list) owners.set(owner, (list = []));
    list.push(listener as Listener<never>);
  }

  /** Releases every subscription `owner` made. */
  off(owner: Owner): void {
    for (const owners of this.#listeners.values()) owners.delete(owner);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const owners = this.#listeners.get(event);
    if (!owners || owners.size === 0) return;
    for (const [owner, list] of owners) {
      for (const listener of list) {
        try {
          (listener as Listener<Events[K]>)(payload);
        } catch (err) {
          this.#failures++;
          this.#onFailure({ owner: ownerName(owner), event: String(event), err });
        }
      }
    }
  }

  /** How many listeners of `event` are subscribed (tests check that stop released them). */
  listenerCount(event?: keyof Events): number {
    let n = 0;
    for (const [name, owners] of this.#listeners) if (event === undefined || name === event) for (const list of owners.values()) n += list.length;
    return n;
  }

  get failures(): number {
    return this.#failures;
  }
}
