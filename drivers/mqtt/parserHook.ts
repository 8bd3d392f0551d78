import { Duplex } from 'node:stream';
import type { Aedes } from 'aedes';
import { DriverError, DriverErrorCodes } from '../errors.ts';
import type { DecodedPacket } from './packetRules.ts';

/** The part of aedes' private client we rely on: its mqtt-packet parser (`client._parser`). */
export interface PacketParser {
  prependListener(event: 'packet', listener: (packet: DecodedPacket) => void): unknown;
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

/**
 * The start-up self-check: hands aedes a stream that is no socket and checks that the client it builds
 * has the parser the malformed-packet check attaches to. Throws TRELLIS_E_BROKER if not, so the broker
 * never runs without its guard (an aedes upgrade that renames `_parser` refuses to start, loudly).
 */
export function assertParserHook(aedes: Pick<Aedes, 'handle'>): void {
  const probe = new Duplex({
    read() {},
    write(_chunk, _enc, done) {
      done();
    },
  });
  const client = aedes.handle(probe as never);
  const found = parserOf(client) !== undefined;
  probe.destroy();
  if (!found) {
    throw new DriverError(
      DriverErrorCodes.broker,
      'aedes no longer exposes its client parser (client._parser): the malformed-packet guard cannot attach, so the broker refuses to start. Pin aedes to a version this Trellis supports.',
    );
  }
}
