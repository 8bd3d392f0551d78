import type { GatewayBus } from '../core/events.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCodes, TrellisError } from '../errors.ts';
import type { Db } from './db.ts';
import { DeviceMetaStore } from './deviceMeta.ts';

export const DATA_CLASSES = ['usage', 'maintenance', 'health', 'telemetry', 'alerts'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

export interface Grant {
  readonly id: number;
  readonly providerId: string;
  /** device ids, `tag:<tag>`, or `*` for every device */
  readonly devices: readonly string[];
  readonly classes: readonly DataClass[];
  /** attributes the provider may set remotely on those devices */
  readonly commands: readonly string[];
  /** true: the provider sees real device ids; false: per-provider pseudonyms */
  readonly identity: boolean;
  readonly expiresAt: number | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface GrantInput {
  readonly providerId: string;
  readonly providerName?: string | undefined;
  readonly devices: readonly string[];
  readonly classes: readonly DataClass[];
  readonly commands?: readonly string[] | undefined;
  readonly identity?: boolean | undefined;
  readonly expiresAt?: number | null | undefined;
}

interface GrantRow {
  id: number;
  provider_id: string;
  devices: string;
  classes: string;
  commands: string;
  identity: number;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

const PROVIDER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Grants: which devices, data classes and remote commands each service provider may have, until when.
 * Default deny: a provider with no active grant gets nothing. Device ids in a provider's stream are
 * pseudonyms (HMAC-SHA256 of the device id under a gateway secret, keyed per provider) unless the
 * grant includes identity: stable for one provider, unlinkable across providers.
 */
export class Grants {
  readonly #db: Db;
  readonly #now: () => number;
  #cache: Grant[] | undefined;
  /** PRAGMA data_version when the cache was read: it changes when another process (the CLI) commits */
  #cachedVersion = -1;
  #key: Buffer | undefined;
  readonly #tags: (deviceId: string) => readonly string[];
  /** where a revoke is announced (`grantRevoked`: cloud sync purges the provider's queue) */
  readonly #bus: Pick<GatewayBus, 'emit'> | undefined;

  constructor(db: Db, now: () => number = Date.now, bus?: Pick<GatewayBus, 'emit'>, meta: Pick<DeviceMetaStore, 'tags'> = new DeviceMetaStore(db)) {
    this.#db = db;
    this.#now = now;
    this.#bus = bus;
    this.#tags = (id) => meta.tags(id);
  }

  providers(): Array<{ id: string; name: string }> {
    return this.#db.prepare('SELECT id, name FROM providers ORDER BY id').all() as Array<{ id: string; name: string }>;
  }

  add(input: GrantInput): Grant {
    if (!PROVIDER_ID.test(input.providerId))
      throw new TrellisError(ErrorCodes.auth, `provider "${input.providerId}": expected letters, digits, _ . : - (its broker username or certificate CN)`);
    if (input.devices.length === 0) throw new TrellisError(ErrorCodes.auth, 'a grant needs at least one device, tag:<tag> or *');
    const bad = input.classes.find((c) => !DATA_CLASSES.includes(c));
    if (bad) throw new TrellisError(ErrorCodes.auth, `unknown data class "${bad}" (one of ${DATA_CLASSES.join(', ')})`);
    const now = this.#now();
    const id = this.#db.transaction(() => {
      this.#db
        .prepare('INSERT INTO providers (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING')
        .run(input.providerId, input.providerName ?? input.providerId, now);
      return Number(
        this.#db
          .prepare('INSERT INTO grants (provider_id, devices, classes, commands, identity, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(
            input.providerId,
            JSON.stringify(input.devices),
            JSON.stringify(input.classes),
            JSON.stringify(input.commands ?? []),
            input.identity ? 1 : 0,
            input.expiresAt ?? null,
            now,
          ).lastInsertRowid,
      );
    })();
    this.#cache = undefined;
    return this.get(id) as Grant;
  }

  get(id: number): Grant | undefined {
    const row = this.#db.prepare('SELECT * FROM grants WHERE id = ?').get(id) as GrantRow | undefined;
    return row ? toGrant(row) : undefined;
  }

  /** Revokes a grant now; undefined if there is no such active grant. */
  revoke(id: number): Grant | undefined {
    const changed = this.#db.prepare('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(this.#now(), id).changes;
    this.#cache = undefined;
    if (changed === 0) return undefined;
    const grant = this.get(id) as Grant;
    this.#bus?.emit('grantRevoked', grant);
    return grant;
  }

  /** Would a queued record of this class (about this device) still reach `providerId` under the grants in force? */
  stillCovers(providerId: string, cls: string | null, deviceId: string | null): boolean {
    return this.active().some((g) => g.providerId === providerId && this.#allows(g, cls as DataClass, deviceId ?? undefined));
  }

  /**
   * Does this grant let a record of `cls` through? Records about a device need the device covered; those
   * about none (health, gateway-wide alerts) need health itself, or a grant for every device.
   */
  #allows(g: Grant, cls: DataClass, deviceId: string | undefined): boolean {
    if (!g.classes.includes(cls)) return false;
    return deviceId === undefined ? cls === 'health' || g.devices.includes('*') : this.covers(g, deviceId);
  }

  list(includeRevoked = false): Grant[] {
    return (this.#db.prepare(`SELECT * FROM grants ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY id`).all() as GrantRow[]).map(toGrant);
  }

  /** Grants in force now (not revoked, not expired). */
  active(): Grant[] {
    const version = this.#db.pragma('data_version', { simple: true }) as number;
    if (version !== this.#cachedVersion) this.#cache = undefined;
    if (!this.#cache) {
      this.#cache = this.list(false);
      this.#cachedVersion = version;
    }
    const now = this.#now();
    return this.#cache.filter((g) => g.expiresAt === null || g.expiresAt > now);
  }

  covers(grant: Grant, deviceId: string): boolean {
    if (grant.devices.includes('*') || grant.devices.includes(deviceId)) return true;
    const tags = grant.devices.filter((d) => d.startsWith('tag:'));
    return tags.length > 0 && this.#tags(deviceId).some((t) => tags.includes(`tag:${t}`));
  }

  /**
   * Who may receive a record of class `cls` (about `deviceId`, if it is about one device), and the
   * device reference each of them sees.
   */
  recipients(cls: DataClass, deviceId?: string): Array<{ providerId: string; deviceRef: string | undefined }> {
    const out = new Map<string, string | undefined>();
    for (const g of this.active()) {
      if (!this.#allows(g, cls, deviceId)) continue;
      if (deviceId === undefined) {
        out.set(g.providerId, undefined);
        continue;
      }
      const ref = g.identity ? deviceId : this.pseudonym(g.providerId, deviceId);
      if (!out.has(g.providerId) || g.identity) out.set(g.providerId, ref);
    }
    return [...out].map(([providerId, deviceRef]) => ({ providerId, deviceRef }));
  }

  /** The provider's name for a device: `d-` and 20 base32 characters, stable for this provider. */
  pseudonym(providerId: string, deviceId: string): string {
    const mac = createHmac('sha256', this.#secret()).update(`${providerId}\u0000${deviceId}`).digest();
    return `d-${base32(mac).slice(0, 20)}`;
  }

  /** The grant that lets `providerId` set `attribute` on the device it calls `ref`, with the real id. */
  commandGrant(providerId: string, ref: string, attribute: string, deviceIds: Iterable<string>): { grant: Grant; deviceId: string } | undefined {
    for (const g of this.active()) {
      if (g.providerId !== providerId || !g.commands.includes(attribute)) continue;
      for (const id of deviceIds) {
        if (!this.covers(g, id)) continue;
        if ((g.identity && ref === id) || this.pseudonym(providerId, id) === ref) return { grant: g, deviceId: id };
      }
    }
    return undefined;
  }

  /** The real id of the device `providerId` calls `ref`, when a grant in force gives it `cls` of that device. */
  deviceFor(providerId: string, ref: string, cls: DataClass, deviceIds: Iterable<string>): string | undefined {
    const ids = [...deviceIds];
    for (const g of this.active()) {
      if (g.providerId !== providerId || !g.classes.includes(cls)) continue;
      for (const id of ids) if (this.covers(g, id) && ((g.identity && ref === id) || this.pseudonym(providerId, id) === ref)) return id;
    }
    return undefined;
  }

  #secret(): Buffer {
    if (this.#key) return this.#key;
    const row = this.#db.prepare("SELECT value FROM secrets WHERE name = 'pseudonym-key'").get() as { value: Buffer } | undefined;
    if (row) return (this.#key = row.value);
    const key = randomBytes(32);
    this.#db.prepare("INSERT INTO secrets (name, value) VALUES ('pseudonym-key', ?) ON CONFLICT (name) DO NOTHING").run(key);
    return this.#secret();
  }
}

function toGrant(r: GrantRow): Grant {
  return {
    id: r.id,
    providerId: r.provider_id,
    devices: JSON.parse(r.devices) as string[],
    classes: JSON.parse(r.classes) as DataClass[],
    commands: JSON.parse(r.commands) as string[],
    identity: r.identity === 1,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** What the audit log keeps of a new grant. */
export function grantAudit(g: Grant): Record<string, unknown> {
  return { grant: g.id, devices: g.devices, classes: g.classes, commands: g.commands, identity: g.identity, expiresAt: g.expiresAt };
}
