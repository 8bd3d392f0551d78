import type { AlertInput, GatewayBus, StoredAlert } from './core/events.ts';
import type { Logger } from './log.ts';
import type { AlertStore } from './store/alerts.ts';

/** Where alerts are raised: rules, maintenance signals and the gateway itself call `raise`. */
export interface AlertSink {
  raise(alert: AlertInput): void;
}

/**
 * The one way an alert enters the gateway: stored, logged, then announced on the bus (the phone's
 * live stream and cloud sync listen). Nothing loops back through the hub.
 */
export class AlertService implements AlertSink {
  readonly name = 'alerts';
  readonly #store: AlertStore;
  readonly #bus: GatewayBus;
  readonly #log: Logger;

  constructor(deps: { store: AlertStore; bus: GatewayBus; log: Logger }) {
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#log = deps.log;
  }

  raise(alert: AlertInput): StoredAlert {
    let stored: StoredAlert;
    try {
      stored = this.#store.add(alert);
    } catch (err) {
      // the database is gone (the gateway is stopping, or the disk failed): still tell people
      this.#log.error({ err }, 'storing an alert failed');
      stored = { ...alert, id: 0, source: alert.source ?? 'rule' };
    }
    this.#log.warn({ ruleId: stored.ruleId, deviceId: stored.deviceId, source: stored.source, severity: stored.severity }, `alert: ${stored.message}`);
    this.#bus.emit('alert', stored);
    return stored;
  }
}
