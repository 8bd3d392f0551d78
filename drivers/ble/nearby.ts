import { BTHOME_SERVICE_DATA_UUID, GATT_PROFILES } from './profiles.ts';

/** A Bluetooth device the scan heard that no config or adoption names yet, and what it looks like. */
export interface NearbyDevice {
  readonly address: string;
  /** the name it advertises, if any */
  readonly name: string | undefined;
  /** `bthome`, or the shipped GATT profile it matches */
  readonly profile: string;
  /** a BTHome sensor whose adverts are encrypted: adopting it needs its bind key */
  readonly encrypted: boolean;
  /** signal strength in dBm, when BlueZ reports one */
  readonly rssi: number | undefined;
  readonly lastSeen: number;
  /** the last BTHome advert's bytes: a bind key given at adoption is tried on it */
  readonly advert: Buffer | undefined;
}

export interface Heard {
  readonly address: string;
  readonly name: string | undefined;
  readonly rssi: number | undefined;
  readonly serviceData: Record<string, Buffer | undefined>;
  readonly uuids: readonly string[];
}

/** What a heard device is, from its advert: BTHome service data, or the services a profile advertises; else undefined (a phone, headphones). */
export function recognise(h: Heard): { profile: string; encrypted: boolean } | undefined {
  const bthome = h.serviceData[BTHOME_SERVICE_DATA_UUID];
  if (bthome && bthome.length > 0) return { profile: 'bthome', encrypted: ((bthome[0] ?? 0) & 0x01) === 1 };
  const uuids = new Set(h.uuids.map((u) => u.toLowerCase()));
  for (const [name, p] of Object.entries(GATT_PROFILES)) if (p.advertises.every((u) => uuids.has(u))) return { profile: name, encrypted: false };
  return undefined;
}

/** At most this many nearby devices are listed (the ones heard longest ago make room). */
export const MAX_NEARBY = 200;
/** At most this many unknown addresses are read per scan, so a crowded street cannot stall one. */
export const PROBES_PER_SCAN = 32;

/**
 * The scan's list of devices nearby that could be adopted. Each address is read again at most every
 * `reprobeMs`; addresses that are no device we know (most of what a scan hears) are remembered as
 * such, so they are not read on every scan either; a device no longer listed by BlueZ leaves the list.
 */
export class NearbyList {
  readonly #found = new Map<string, NearbyDevice>();
  /** address -> when it may be read again */
  readonly #nextProbe = new Map<string, number>();

  constructor(readonly reprobeMs: number) {}

  /** Of the addresses BlueZ lists, those to read now (not tracked, due); forgets those no longer listed. */
  due(listed: readonly string[], tracked: (address: string) => boolean, now: number): string[] {
    const here = new Set(listed);
    for (const a of this.#found.keys()) if (!here.has(a) || tracked(a)) this.#found.delete(a);
    for (const a of this.#nextProbe.keys()) if (!here.has(a)) this.#nextProbe.delete(a);
    return listed.filter((a) => !tracked(a) && (this.#nextProbe.get(a) ?? 0) <= now).slice(0, PROBES_PER_SCAN);
  }

  /**
   * What a read found. Undefined: the read failed (BlueZ busy, a slow bus): what was known of the
   * device stays listed (the owner may be about to adopt it) and it is read again later.
   */
  heard(address: string, h: Heard | undefined, now: number): void {
    this.#nextProbe.set(address, now + this.reprobeMs);
    if (!h) return;
    const kind = recognise(h);
    if (!kind) {
      this.#found.delete(address);
      return;
    }
    this.#found.delete(address); // re-inserted last: the map's order is oldest first
    this.#found.set(address, { address, name: h.name, rssi: h.rssi, lastSeen: now, advert: h.serviceData[BTHOME_SERVICE_DATA_UUID], ...kind });
    for (const oldest of this.#found.keys()) {
      if (this.#found.size <= MAX_NEARBY) break;
      this.#found.delete(oldest);
    }
  }

  get(address: string): NearbyDevice | undefined {
    return this.#found.get(address);
  }

  /** Strongest signal first. */
  list(): NearbyDevice[] {
    return [...this.#found.values()].sort((a, b) => (b.rssi ?? -999) - (a.rssi ?? -999));
  }

  forget(address: string): void {
    this.#found.delete(address);
    this.#nextProbe.delete(address);
  }
}
