import type { AttributeValue } from '../types.ts';
import { type Availability, type EntityConfig, matches, NOT_JSON, type Outgoing, type ParsedJson } from './entity.ts';

export { NOT_JSON, type Outgoing, type ParsedJson } from './entity.ts';

export function parseJsonOnce(payload: string): ParsedJson {
  const c = payload.charCodeAt(0);
  if (c !== 123 /* { */ && c !== 91 /* [ */) return NOT_JSON;
  try {
    return JSON.parse(payload);
  } catch {
    return NOT_JSON;
  }
}

/** Availability: true, false, or undefined when the payload is neither. */
export function decodeAvailability(a: Availability, payload: string, json: ParsedJson): boolean | undefined {
  const raw = a.template ? a.template.render(payload, json === NOT_JSON ? undefined : json) : payload;
  if (matches(raw, a.payloadAvailable)) return true;
  if (matches(raw, a.payloadNotAvailable)) return false;
  return undefined;
}

/** Encodes a command for one of an entity's attributes, or returns an error message. */
export function encodeCommand(e: EntityConfig, attribute: string, value: AttributeValue): Outgoing | { error: string } {
  const w = e.writers[attribute];
  if (!w) return { error: `${attribute}: ${e.attributes[attribute] ? `a ${e.component} cannot be commanded here` : 'the device announced no such attribute'}` };
  return w.encode(value);
}
