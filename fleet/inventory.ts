import type { ManifestPayload } from '../protocol/index.ts';
import type { Queryable } from './db/fleetDb.ts';

/**
 * Applies a gateway's device manifest (newer ones only: a retained manifest replayed late changes
 * nothing): its devices are granted as listed, and a device the fleet knew that is no longer listed
 * has had its access ended by the owner. Nothing in the manifest outlives the grant that covered it.
 * A device the manifest says is offline keeps the time it was first said to be (`offline_since`).
 */
export async function syncManifest(tx: Queryable, gatewayId: string, m: ManifestPayload, now: number): Promise<void> {
  const newer = await tx.query(
    'UPDATE gateways SET time_zone = $2, manifest_at = $3 WHERE gateway_id = $1 AND (manifest_at IS NULL OR manifest_at <= $3) RETURNING 1',
    [gatewayId, m.timeZone, m.at],
  );
  if (newer.length === 0) return;
  for (const d of m.devices) {
    await tx.query(
      `INSERT INTO devices (gateway_id, device_ref, kind, model, name, capabilities, commands, classes, access, online, offline_since, first_seen, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'granted', $10, CASE WHEN $10 = false THEN $11::bigint END, $9, $9)
       ON CONFLICT (gateway_id, device_ref) DO UPDATE SET kind = excluded.kind, model = excluded.model, name = excluded.name, capabilities = excluded.capabilities,
         commands = excluded.commands, classes = excluded.classes, access = 'granted', access_ended_at = NULL, updated_at = excluded.updated_at,
         online = excluded.online, offline_since = CASE WHEN excluded.online = false THEN coalesce(devices.offline_since, excluded.offline_since) END`,
      [
        gatewayId,
        d.deviceId,
        d.kind ?? null,
        d.model ?? null,
        d.name ?? null,
        JSON.stringify(d.capabilities),
        JSON.stringify(d.commands),
        JSON.stringify(d.classes),
        now,
        d.online ?? null,
        m.at,
      ],
    );
  }
  await tx.query(
    `UPDATE devices SET access = 'ended', access_ended_at = $3, name = NULL, updated_at = $3
     WHERE gateway_id = $1 AND access = 'granted' AND NOT (device_ref = ANY($2::text[]))`,
    [gatewayId, m.devices.map((d) => d.deviceId), now],
  );
}

export interface Site {
  readonly gatewayId: string;
  readonly label: string | null;
  readonly customer: string | null;
  readonly state: string | null;
  readonly version: string | null;
  readonly timeZone: string | null;
  readonly lastSeen: number;
  readonly invalidCount: number;
  readonly devices: number;
  readonly activeAlarms: number;
  /** from the last health record */
  readonly outboxDepth: number | null;
  readonly outboxLagS: number | null;
  readonly healthAt: number | null;
}

const SITE_SQL = `
  SELECT g.gateway_id AS "gatewayId", g.label, g.customer, g.state, g.version, g.time_zone AS "timeZone", g.last_seen AS "lastSeen",
         g.invalid_count AS "invalidCount",
         (SELECT count(*)::int FROM devices d WHERE d.gateway_id = g.gateway_id AND d.access = 'granted') AS devices,
         (SELECT count(*)::int FROM alarms a WHERE a.gateway_id = g.gateway_id AND a.state = 'active') AS "activeAlarms",
         (h.data->'outbox'->>'depth')::int AS "outboxDepth", (h.data->'outbox'->>'oldestAgeS')::float AS "outboxLagS", h.at AS "healthAt"
  FROM gateways g
  LEFT JOIN LATERAL (SELECT data, at FROM health WHERE gateway_id = g.gateway_id ORDER BY at DESC LIMIT 1) h ON true`;

export async function listSites(db: Queryable, filter: { customer?: string | undefined; gatewayIds?: readonly string[] | undefined } = {}): Promise<Site[]> {
  return db.query<Site>(
    `${SITE_SQL} WHERE ($1::text IS NULL OR g.customer = $1) AND ($2::text[] IS NULL OR g.gateway_id = ANY($2::text[])) ORDER BY g.gateway_id`,
    [filter.customer ?? null, filter.gatewayIds ?? null],
  );
}

export async function site(db: Queryable, gatewayId: string): Promise<Site | undefined> {
  return (await db.query<Site>(`${SITE_SQL} WHERE g.gateway_id = $1`, [gatewayId]))[0];
}

export interface Device {
  readonly gatewayId: string;
  readonly deviceRef: string;
  readonly kind: string | null;
  readonly model: string | null;
  readonly name: string | null;
  readonly capabilities: string[];
  readonly commands: string[];
  readonly classes: string[];
  readonly access: 'granted' | 'ended';
  readonly accessEndedAt: number | null;
  readonly online: boolean | null;
  readonly offlineSince: number | null;
}

export async function devices(db: Queryable, gatewayId: string): Promise<Device[]> {
  return db.query<Device>(
    `SELECT gateway_id AS "gatewayId", device_ref AS "deviceRef", kind, model, name, capabilities, commands, classes, access, access_ended_at AS "accessEndedAt",
            online, offline_since AS "offlineSince"
     FROM devices WHERE gateway_id = $1 ORDER BY device_ref`,
    [gatewayId],
  );
}

/** The provider's own label and customer of a site. */
export async function labelSite(db: Queryable, gatewayId: string, patch: { label?: string | null; customer?: string | null }): Promise<boolean> {
  const rows = await db.query(
    `UPDATE gateways SET label = CASE WHEN $2 THEN $3 ELSE label END, customer = CASE WHEN $4 THEN $5 ELSE customer END WHERE gateway_id = $1 RETURNING 1`,
    [gatewayId, 'label' in patch, patch.label ?? null, 'customer' in patch, patch.customer ?? null],
  );
  return rows.length > 0;
}
