import type { FleetDb } from '../db/fleetDb.ts';

/** The console's names for what changed, by the table that notified (migration 4's triggers). */
const TOPIC_OF: Readonly<Record<string, string>> = {
  alarms: 'alarms',
  tickets: 'tickets',
  commands: 'commands',
  jobs: 'commands',
  diagnostics: 'diagnostics',
  devices: 'devices',
  gateways: 'sites',
  users: 'people',
  tokens: 'sessions',
  audit_log: 'audit',
};
export const TOPICS = [...new Set(Object.values(TOPIC_OF))];

/** changes within this window reach a console as one message */
const BATCH_MS = 250;

export type LiveListener = (topics: readonly string[]) => void;

/**
 * Tells open consoles what changed, from PostgreSQL's LISTEN/NOTIFY (PGlite's too), so a change
 * made by any process on the database (an ingest worker, another API, a CLI command) reaches them.
 * Messages carry topic names only, never data: a console reloads what it shows through the API,
 * which applies the person's scope.
 */
export class LiveHub {
  private readonly listeners = new Set<LiveListener>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  static async start(db: FleetDb): Promise<LiveHub> {
    const hub = new LiveHub();
    hub.unlisten = await db.listen('fleet_change', (table) => hub.changed(table));
    return hub;
  }

  subscribe(fn: LiveListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(table: string): void {
    if (table === '*') for (const t of TOPICS) this.pending.add(t);
    else {
      const topic = TOPIC_OF[table];
      if (!topic) return;
      this.pending.add(topic);
    }
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const topics = [...this.pending];
    this.pending = new Set();
    for (const fn of this.listeners) fn(topics);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.listeners.clear();
    await this.unlisten?.();
  }
}
