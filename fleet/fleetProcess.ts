import type { FleetConfig } from './config.ts';
import type { FleetDb } from './db/fleetDb.ts';
import { migrate } from './db/migrations.ts';
import type { IngestCounters } from './ingest/worker.ts';
import { dispatch, type Publisher } from './jobs/dispatch.ts';
import { escalateAlarms } from './jobs/escalation.ts';
import { exclusive, JobLocks } from './jobs/exclusive.ts';
import { repairGaps } from './jobs/gaps.ts';
import { checkOffline } from './jobs/offline.ts';
import { scoreRisk } from './jobs/risk.ts';
import { applyRetention } from './jobs/retention.ts';
import { sweepTickets } from './jobs/ticketSweep.ts';

/** What the periodic rounds need from the config. */
export type RoundsConfig = Pick<FleetConfig, 'provider' | 'checks' | 'alarms' | 'tickets' | 'maintenance' | 'retention'>;

/** How records reach the database: an ingest worker on the provider's broker, or the embedded broker itself. */
export interface IngestPath extends Publisher {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  readonly counters: Readonly<IngestCounters>;
}

export interface FleetProcessOptions {
  readonly db: FleetDb;
  readonly ingest: IngestPath;
  readonly config: RoundsConfig;
  readonly now?: () => number;
  /** a periodic job that failed (it runs again at the next tick) */
  readonly onJobFailure?: (job: string, err: Error) => void;
}

const MINUTE = 60_000;
/** retention is no hurry: at most once an hour */
const RETENTION_EVERY_MS = 60 * MINUTE;
/** the risk scores are per day: scored again every hour, so a new day's is there within the hour */
const RISK_EVERY_MS = 60 * MINUTE;

/**
 * One stateless fleet process: migrates the database (once across processes), ingests its share of
 * the provider's streams, and offers the periodic jobs on a timer (offline detection, escalation,
 * tickets, requests to gateways, gap repair, predictive-maintenance risk, retention); each job's advisory lock makes exactly one
 * process do each round. Start as many as the load needs.
 */
export class FleetProcess {
  readonly #o: FleetProcessOptions;
  readonly ingest: IngestPath;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #last: Record<string, number> = {};

  constructor(options: FleetProcessOptions) {
    this.#o = options;
    this.ingest = options.ingest;
  }

  async start(): Promise<void> {
    await migrate(this.#o.db);
    await this.ingest.start();
    this.#timer = setInterval(() => {
      this.#round ??= this.runRound().finally(() => {
        this.#round = undefined;
      });
    }, this.#o.config.checks.everySeconds * 1000);
  }

  /** One round of every periodic job that is due (each skipped where another process holds it). */
  async runRound(): Promise<void> {
    const { db, config: c } = this.#o;
    const now = (this.#o.now ?? Date.now)();
    const jobs: Array<[string, number, () => Promise<unknown>]> = [
      ['offline', 0, () => checkOffline(db, now, c.checks.gatewayOfflineMinutes * MINUTE, c.checks.deviceOfflineMinutes * MINUTE)],
      // it takes the job's lock itself, only while it claims (its POSTs run outside any transaction)
      ['escalation', 0, () => escalateAlarms(db, c.alarms.webhook, c.alarms.escalateAfterMinutes * MINUTE, now)],
      ['tickets', 0, () => exclusive(db, JobLocks.tickets, (tx) => sweepTickets(tx, c.tickets, now))],
      ['gaps', c.checks.gapsEverySeconds * 1000, () => exclusive(db, JobLocks.gaps, (tx) => repairGaps(tx, now, c.checks.gapSettleSeconds * 1000))],
      [
        'dispatch',
        0,
        async () => {
          if (!this.ingest.connected) return;
          const round = await exclusive(db, JobLocks.commands, (tx) =>
            dispatch(tx, { provider: c.provider, commandTimeoutMs: c.checks.commandTimeoutMinutes * MINUTE, retryAfterMs: 10 * MINUTE }, now),
          );
          // after the commit (dispatch says why); MQTT.js keeps what it cannot send yet and sends it on reconnect
          await Promise.all((round?.outbox ?? []).map((m) => this.ingest.publish(m.topic, m.payload)));
        },
      ],
      ['risk', RISK_EVERY_MS, () => exclusive(db, JobLocks.risk, (tx) => scoreRisk(tx, c.tickets.sla, now, c.maintenance.ticket))],
      [
        'retention',
        RETENTION_EVERY_MS,
        () =>
          exclusive(db, JobLocks.retention, (tx) =>
            applyRetention(
              tx,
              { rawHealthDays: c.retention.rawHealthDays, invalidDays: c.retention.invalidMessagesDays, auditDays: c.retention.auditDays },
              now,
            ),
          ),
      ],
    ];
    for (const [name, every, run] of jobs) {
      if (every > 0 && now - (this.#last[name] ?? 0) < every) continue;
      this.#last[name] = now;
      await run().catch((err: Error) => this.#o.onJobFailure?.(name, err));
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
    await this.ingest.stop();
  }
}
