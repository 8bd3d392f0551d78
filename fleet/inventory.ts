import type { ManifestPayload } from '../protocol/index.ts';
import type { Queryable } from './db/fleetDb.ts';
import { signalWords } from './signalWords.ts';

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

const DEVICE_COLUMNS = `gateway_id AS "gatewayId", device_ref AS "deviceRef", kind, model, name, capabilities, commands, classes, access,
  access_ended_at AS "accessEndedAt", online, offline_since AS "offlineSince"`;

export async function devices(db: Queryable, gatewayId: string): Promise<Device[]> {
  return db.query<Device>(
    `SELECT ${DEVICE_COLUMNS}
     FROM devices WHERE gateway_id = $1 ORDER BY device_ref`,
    [gatewayId],
  );
}

/** Granted devices across every site, at most `limit`; with `commandable`, only those the provider may set something of. */
export async function allDevices(db: Queryable, o: { commandable: boolean; limit: number }): Promise<Device[]> {
  return db.query<Device>(
    `SELECT ${DEVICE_COLUMNS} FROM devices
     WHERE access = 'granted' AND (NOT $1 OR jsonb_array_length(commands) > 0) ORDER BY gateway_id, device_ref LIMIT $2`,
    [o.commandable, o.limit],
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

export interface DeviceDetail {
  readonly device: Device;
  /** maintenance signals of the last 30 days, oldest first */
  readonly signals: Array<{
    signal: string;
    attribute: string;
    value: number;
    unit: string;
    threshold: number | null;
    exceeded: boolean;
    baseline: number | null;
    at: number;
    /** the signal in plain words */
    words: string;
  }>;
  /** usage per local day (the bucket's local date) of the last 30 days: energy in kWh, counters, running hours */
  readonly daily: Array<{ day: string; energyKWh: number; counters: Record<string, number>; onHours: number }>;
}

const DAY = 86_400_000;

/** One device's page: what its gateway granted, its maintenance signals and its usage per day. */
export async function deviceDetail(db: Queryable, gatewayId: string, deviceRef: string, now: number): Promise<DeviceDetail | undefined> {
  const [device] = await db.query<Device>(
    `SELECT ${DEVICE_COLUMNS}
     FROM devices WHERE gateway_id = $1 AND device_ref = $2`,
    [gatewayId, deviceRef],
  );
  if (!device) return undefined;
  const since = now - 30 * DAY;
  const rows = await db.query<Omit<DeviceDetail['signals'][number], 'words'>>(
    `SELECT signal, attribute, (data->>'value')::float AS value, data->>'unit' AS unit, (data->>'threshold')::float AS threshold,
            (data->>'exceeded')::boolean AS exceeded, (data->>'baseline')::float AS baseline, at
     FROM maintenance_signals WHERE gateway_id = $1 AND device_ref = $2 AND at >= $3 ORDER BY at LIMIT 5000`,
    [gatewayId, deviceRef, since],
  );
  const signals = rows.map((r) => ({ ...r, words: signalWords(r) }));
  const buckets = await db.query<{ day: string; data: { metrics: Record<string, { role: string; delta?: number; seconds?: number }> } }>(
    `SELECT substr(data->>'localStart', 1, 10) AS day, data FROM usage_buckets WHERE gateway_id = $1 AND device_ref = $2 AND start_at >= $3 ORDER BY start_at`,
    [gatewayId, deviceRef, since],
  );
  const days = new Map<string, { day: string; energyKWh: number; counters: Record<string, number>; onHours: number }>();
  for (const b of buckets) {
    const d = days.get(b.day) ?? { day: b.day, energyKWh: 0, counters: {}, onHours: 0 };
    for (const [name, m] of Object.entries(b.data.metrics)) {
      if (m.role === 'energy') d.energyKWh += (m.delta ?? 0) / 1000;
      else if (m.role === 'counter') d.counters[name] = (d.counters[name] ?? 0) + (m.delta ?? 0);
      else if (m.role === 'on') d.onHours += (m.seconds ?? 0) / 3600;
    }
    days.set(b.day, d);
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { device, signals, daily: [...days.values()].map((d) => ({ ...d, energyKWh: round(d.energyKWh), onHours: round(d.onHours) })) };
}

/** The latest maintenance signal of each (device, signal) over its limit, worst first (value / threshold), with its words. */
export async function worstSignals(db: Queryable, limit = 10) {
  const rows = await db.query<{
    gatewayId: string;
    deviceRef: string;
    model: string | null;
    signal: string;
    attribute: string;
    value: number;
    unit: string;
    threshold: number;
    baseline: number | null;
    at: number;
  }>(
    `SELECT * FROM (
       SELECT DISTINCT ON (m.gateway_id, m.device_ref, m.signal, m.attribute)
              m.gateway_id AS "gatewayId", m.device_ref AS "deviceRef", d.model, m.signal, m.attribute, (m.data->>'value')::float AS value, m.data->>'unit' AS unit,
              (m.data->>'threshold')::float AS threshold, (m.data->>'baseline')::float AS baseline, (m.data->>'exceeded')::boolean AS exceeded, m.at
       FROM maintenance_signals m LEFT JOIN devices d ON d.gateway_id = m.gateway_id AND d.device_ref = m.device_ref
       WHERE d.access IS DISTINCT FROM 'ended'
       ORDER BY m.gateway_id, m.device_ref, m.signal, m.attribute, m.at DESC
     ) latest WHERE exceeded AND threshold > 0 ORDER BY value / threshold DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, words: signalWords(r) }));
}

export interface HealthPoint {
  readonly t: number;
  readonly lagP99Ms: number | null;
  readonly outboxDepth: number | null;
  readonly cpuPercent: number | null;
  readonly devicesOnline: number | null;
}

/** A site's health over [from, to), at most `points` points (means per slot), from its raw records. */
export async function healthHistory(db: Queryable, gatewayId: string, from: number, to: number, points = 200): Promise<HealthPoint[]> {
  const width = Math.max(60_000, Math.ceil((to - from) / points));
  return db.query<HealthPoint>(
    `SELECT $2::bigint + ((at - $2) / $4) * $4 AS t,
            avg((data->'eventLoop'->>'lagP99Ms')::float) AS "lagP99Ms", avg((data->'outbox'->>'depth')::float) AS "outboxDepth",
            avg((data->'cpu'->>'percent')::float) AS "cpuPercent", avg((data->'devices'->>'online')::float) AS "devicesOnline"
     FROM health WHERE gateway_id = $1 AND at >= $2 AND at < $3 GROUP BY 1 ORDER BY 1`,
    [gatewayId, from, to, width],
  );
}
