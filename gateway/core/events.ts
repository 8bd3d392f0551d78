import type { DeviceEvent } from '../../drivers/types.ts';
import type { MaintenanceData } from '../../protocol/index.ts';
import type { StoredBucket } from '../metering/service.ts';
import type { TlsMaterial } from '../net/certificates.ts';
import type { Grant } from '../store/grants.ts';
import type { RegisteredDevice } from '../store/registry.ts';
import { EventBus, type ListenerFailure } from './bus.ts';

export interface Rejection {
  readonly deviceId: string | undefined;
  readonly source: string;
  readonly reason: string;
  /** `TRELLIS_E_PAYLOAD` (a payload) or `TRELLIS_E_DISCOVERY` (a discovery config) */
  readonly code: string;
}

/** A notification for people (a rule's notify action, a maintenance signal, a gateway fault). */
export interface AlertInput {
  /** Who raised it; rule alerts may leave it out. */
  readonly source?: 'rule' | 'maintenance' | 'gateway' | undefined;
  readonly ruleId?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly message: string;
  readonly at: number;
}

/** An alert once the alert service stored it. */
export interface StoredAlert extends AlertInput {
  readonly id: number;
  readonly source: 'rule' | 'maintenance' | 'gateway';
}

/**
 * Everything that flows through the gateway, in one direction: wire -> driver -> hub -> these events
 * -> subscribers. Nothing a subscriber does is announced back on the event it came from.
 */
export interface GatewayEvents {
  /** a device event the hub accepted (before it is committed: rules react at once) */
  event: DeviceEvent;
  /** a device announced or changed its description */
  device: RegisteredDevice;
  /** a payload or discovery config a driver or the hub refused */
  rejected: Rejection;
  /** an alert, after the alert service stored it */
  alert: StoredAlert;
  /** usage buckets, after the transaction that stored them committed */
  buckets: readonly StoredBucket[];
  /** a maintenance signal computed from live events or closed buckets */
  maintenance: MaintenanceData;
  /** a provider's grant ended (revoked); what no other grant covers must leave the outbox */
  grantRevoked: Grant;
  /** a commit of readings nobody waited on failed (the readings are reported, the gateway runs on) */
  storeError: Error;
  /** sessions ended (revoked, or their person removed): their live sockets close */
  sessionsEnded: readonly number[];
  /** the self-signed server certificate was renewed: listeners serve the new one */
  tlsRenewed: TlsMaterial;
}

export type GatewayBus = EventBus<GatewayEvents>;

export function gatewayBus(onFailure: (failure: ListenerFailure) => void): GatewayBus {
  return new EventBus<GatewayEvents>(onFailure);
}
