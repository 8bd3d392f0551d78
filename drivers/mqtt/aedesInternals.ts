import { Duplex } from 'node:stream';
import type { Aedes } from 'aedes';
import { DriverError, DriverErrorCodes } from '../errors.ts';
import type { DecodedPacket } from './packetRules.ts';

/** The part of aedes' private client the malformed-packet check relies on: its mqtt-packet parser (`client._parser`). */
export interface PacketParser {
  prependListener(event: 'packet', listener: (packet: DecodedPacket) => void): unknown;
}

/** A message on its way to one client (an aedes-packet `Packet`, a fresh copy per delivery). */
export interface Delivery {
  topic: string;
  qos: number;
}

type Deliver = (packet: Delivery, done: (err?: unknown) => void) => void;

/**
 * The parts of aedes' private client the QoS fix relies on (`aedesFixes.ts`): the two delivery
 * functions its subscriptions call (taken when a subscription is made, and by retained messages when
 * sent), and its subscriptions keyed by topic filter with their granted QoS.
 */
export interface ClientDelivery {
  deliverQoS: Deliver;
  deliver0: Deliver;
  readonly subscriptions: Readonly<Record<string, { readonly qos: number } | undefined>>;
}

/**
 * aedes has no hook between parsing a packet and handling it, so the malformed-packet check listens
 * on its client's private parser. Private fields may be renamed in any release: this finds the parser
 * or says it is missing, never silently skips the check.
 */
export function parserOf(client: unknown): PacketParser | undefined {
  const parser = (client as { _parser?: unknown } | null)?._parser as Partial<PacketParser> | undefined;
  return typeof parser?.prependListener === 'function' ? (parser as PacketParser) : undefined;
}

/** The client's delivery functions and subscriptions, or undefined when aedes no longer has them. */
export function deliveryOf(client: unknown): ClientDelivery | undefined {
  const c = client as Partial<ClientDelivery> | null;
  return typeof c?.deliverQoS === 'function' && typeof c.deliver0 === 'function' && typeof c.subscriptions === 'object' && c.subscriptions !== null
    ? (c as ClientDelivery)
    : undefined;
}

/**
 * The start-up self-check: hands aedes a stream that is no socket and checks that the client it builds
 * has the parser the malformed-packet check attaches to and the delivery functions the QoS fix wraps.
 * Throws TRELLIS_E_BROKER if not, so the broker never runs without them (an aedes upgrade that renames
 * one refuses to start, loudly).
 */
export function assertAedesInternals(aedes: Pick<Aedes, 'handle'>): void {
  const probe = new Duplex({
    read() {},
    write(_chunk, _enc, done) {
      done();
    },
  });
  const client = aedes.handle(probe as never);
  const missing = [parserOf(client) ? undefined : 'client._parser', deliveryOf(client) ? undefined : 'client.deliverQoS/deliver0/subscriptions'].filter(
    Boolean,
  );
  probe.destroy();
  if (missing.length > 0) {
    throw new DriverError(
      DriverErrorCodes.broker,
      `aedes no longer exposes ${missing.join(' and ')}: the malformed-packet guard or the QoS downgrade cannot attach, so the broker refuses to start. Pin aedes to a version this Trellis supports.`,
    );
  }
}
