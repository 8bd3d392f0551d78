import { existsSync, readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { zipSync, strToU8 } from 'fflate';
import type { Db } from './db.ts';

/**
 * Everything the gateway holds about the household, as a zip of JSON and CSV: devices with their
 * attributes and rooms, the full reading history (CSV), device events, usage buckets, alerts, rules,
 * people (names and roles, never password hashes or tokens), grants and the audit log.
 */
export function exportArchive(db: Db, rulesFile: string): Uint8Array {
  const json = (v: unknown) => strToU8(`${JSON.stringify(v, null, 2)}\n`);
  const all = (sql: string) => db.prepare(sql).all();
  const readings = db
    .prepare(
      `SELECT s.device_id AS device, s.attribute, r.ts, coalesce(r.txt, r.num) AS value FROM readings r JOIN series s ON s.id = r.series_id ORDER BY r.rowid`,
    )
    .raw()
    .all() as unknown[][];
  const csv = stringify(
    readings.map(([device, attribute, ts, value]) => [device, attribute, new Date(ts as number).toISOString(), value]),
    { header: true, columns: ['device', 'attribute', 'time', 'value'] },
  );
  return zipSync({
    'README.txt': strToU8(
      'Trellis data export. readings.csv: every stored reading; the .json files: devices, events, usage, alerts, rules, people, home screens, Bluetooth devices, grants, audit log.\n',
    ),
    'devices.json': json(
      all(
        'SELECT d.id, d.name, d.protocol, d.manufacturer, d.model, d.created_at AS createdAt, m.room, m.tags FROM devices d LEFT JOIN device_meta m ON m.device_id = d.id ORDER BY d.id',
      ),
    ),
    'attributes.json': json(
      all('SELECT device_id AS device, attribute, type, unit, device_class AS deviceClass, writable FROM series ORDER BY device_id, attribute'),
    ),
    'readings.csv': strToU8(csv),
    'device-events.json': json(all('SELECT device_id AS device, ts, kind, data FROM device_events ORDER BY id')),
    'usage.json': json(
      (all('SELECT seq, data FROM usage_buckets ORDER BY seq') as Array<{ seq: number; data: string }>).map((r) => ({ seq: r.seq, ...JSON.parse(r.data) })),
    ),
    'alerts.json': json(all('SELECT at, severity, message, source, rule_id AS ruleId, device_id AS deviceId FROM alerts ORDER BY id')),
    'rules.yaml': strToU8(existsSync(rulesFile) ? readFileSync(rulesFile, 'utf8') : ''),
    'people.json': json(all('SELECT name, role, created_at AS createdAt FROM users ORDER BY id')),
    'home-screens.json': json(
      (all('SELECT u.name, p.data FROM person_prefs p JOIN users u ON u.id = p.user_id ORDER BY u.id') as Array<{ name: string; data: string }>).map((r) => ({
        person: r.name,
        ...JSON.parse(r.data),
      })),
    ),
    // adopted Bluetooth sensors, without their bind keys (an export may be shared; the backup keeps them)
    'bluetooth-devices.json': json(all('SELECT address, id, name, profile, adopted_at AS adoptedAt FROM ble_devices ORDER BY adopted_at')),
    'grants.json': json(
      all(
        'SELECT g.id, g.provider_id AS provider, p.name AS providerName, g.devices, g.classes, g.commands, g.identity, g.expires_at AS expiresAt, g.created_at AS createdAt, g.revoked_at AS revokedAt FROM grants g JOIN providers p ON p.id = g.provider_id ORDER BY g.id',
      ),
    ),
    'audit-log.json': json(all('SELECT id, at, actor, action, subject, details, prev_hash AS prevHash, hash FROM audit_log ORDER BY id')),
    'remote-commands.json': json(all('SELECT at, provider, request_id AS requestId, request, status, reason FROM command_log ORDER BY id')),
  });
}
