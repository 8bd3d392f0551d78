import type { ManifestPayload } from '../../protocol/index.ts';
import type { Grants } from '../store/grants.ts';
import type { DeviceRegistry } from '../store/registry.ts';

export interface ManifestDeps {
  readonly gatewayId: string;
  readonly timeZone: string;
  readonly grants: Grants;
  readonly registry: DeviceRegistry;
  /** the device's tags (a `kind:<x>` tag names its kind) */
  readonly tags: (deviceId: string) => readonly string[];
  readonly online: (deviceId: string) => boolean;
}

/**
 * A provider's device manifest: each device its grants in force cover, as the provider knows it
 * (the pseudonym, or the real id under an identity grant), with model, attributes, the data classes
 * and remote commands granted, whether it is online, and the real name only under an identity grant. A provider with no
 * grant left gets an empty one, so its fleet sees the access end.
 */
export function buildManifest(d: ManifestDeps, providerId: string, at: number): ManifestPayload {
  const grants = d.grants.active().filter((g) => g.providerId === providerId);
  const devices: ManifestPayload['devices'] = [];
  for (const device of d.registry.all()) {
    const covering = grants.filter((g) => d.grants.covers(g, device.id));
    if (covering.length === 0) continue;
    const identity = covering.some((g) => g.identity);
    const kind = d
      .tags(device.id)
      .find((t) => t.startsWith('kind:'))
      ?.slice(5);
    devices.push({
      deviceId: identity ? device.id : d.grants.pseudonym(providerId, device.id),
      ...(kind ? { kind } : {}),
      ...(device.model ? { model: device.model } : {}),
      ...(identity ? { name: device.name } : {}),
      capabilities: Object.keys(device.attributes).sort(),
      commands: [...new Set(covering.flatMap((g) => g.commands))].filter((a) => device.attributes[a]?.writable).sort(),
      classes: [...new Set(covering.flatMap((g) => g.classes))].sort(),
      online: d.online(device.id),
    });
    if (devices.length === 5000) break;
  }
  // code-point order: the same on every machine, whatever its locale (and without ICU's collation data)
  devices.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  return { v: 1, gatewayId: d.gatewayId, at, timeZone: d.timeZone, devices };
}

/** Every provider that has or had a grant: each gets a manifest (an empty one once its grants are gone). */
export function manifestProviders(grants: Grants): string[] {
  return [...new Set(grants.list(true).map((g) => g.providerId))].sort();
}
