import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../gateway/store/db.ts';
import { USER_TABLES } from '../../gateway/store/erase.ts';
import { BIN } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway } from '../helpers/testGateway.ts';

/**
 * Export, erase, audit verification, grants and factory reset through the `trellis` CLI, on a data
 * directory a real gateway wrote. "No user data left" is checked by scanning the database files'
 * bytes for markers that were stored.
 */
const dirs = new TempDirs();
let dir: string;
let config: string;
const DEVICE = 'zq-marker-sensor';
const VALUE = 'MARKER-7f3a-reading';

function trellis(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', config], { encoding: 'utf8', env: { ...process.env, TRELLIS_CONFIG: '' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Whether any of the database's files contain `marker` anywhere in their bytes. */
function fileHas(marker: string): boolean {
  return ['trellis.db', 'trellis.db-wal'].some((f) => existsSync(join(dir, 'data', f)) && readFileSync(join(dir, 'data', f)).includes(Buffer.from(marker)));
}

beforeAll(async () => {
  dir = dirs.make();
  const gw = await startTestGateway({}, dirs);
  const { hub, registry } = gw.running;
  hub.describe({
    id: DEVICE,
    name: 'Marker sensor',
    protocol: 'mqtt',
    owner: DEVICE,
    attributes: { note: { type: 'string', writable: false }, temp: { type: 'number', deviceClass: 'temperature', writable: false } },
  });
  const old = Date.parse('2026-01-01T00:00:00Z');
  hub.ingest([
    { kind: 'reading', deviceId: DEVICE, attribute: 'note', value: VALUE, ts: Date.now() },
    { kind: 'reading', deviceId: DEVICE, attribute: 'temp', value: 4.5, ts: old },
    { kind: 'reading', deviceId: DEVICE, attribute: 'temp', value: 5.5, ts: Date.now() },
  ]);
  gw.running.writer.flush();
  expect(registry.get(DEVICE)).toBeDefined();
  gw.running.audit.append('owner:test', 'lan.command', DEVICE, { attribute: 'x' });
  const dataDir = gw.dir;
  await gw.gateway.stop();
  // the CLI works on the same data directory through a config file
  const { cpSync } = await import('node:fs');
  cpSync(dataDir, join(dir, 'data'), { recursive: true });
  config = join(dir, 'trellis.yaml');
  writeFileSync(config, `dataDir: ./data\nrules: {file: ./rules.yaml}\n`);
  writeFileSync(join(dir, 'rules.yaml'), 'rules: []\n');
}, 30_000);

afterAll(() => dirs.cleanup());

describe('privacy through the CLI', () => {
  it('grant add / list / revoke, audited', () => {
    expect(
      trellis(
        'grant',
        'add',
        '--provider',
        'coolco',
        '--devices',
        `${DEVICE},tag:fridges`,
        '--classes',
        'usage,maintenance',
        '--commands',
        'setpoint',
        '--expires',
        '2030-01-01',
      ).code,
    ).toBe(0);
    const bad = trellis('grant', 'add', '--provider', 'coolco', '--devices', '*', '--classes', 'usage,secrets');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--classes: unknown data class "secrets"');
    const listed = trellis('grant', 'list');
    expect(listed.out).toMatch(
      /#1 coolco \(active\): devices zq-marker-sensor, tag:fridges; data usage, maintenance; commands setpoint; pseudonyms; until 2030-01-01/,
    );
    expect(trellis('grant', 'revoke', '1').out).toContain('Grant #1 for coolco revoked');
    expect(trellis('grant', 'revoke', '1').code).toBe(1);
    expect(trellis('grant', 'list').out).toContain('No grants');
    expect(trellis('grant', 'list', '--all').out).toContain('#1 coolco (revoked');
  });

  it('exports everything as a zip of JSON and CSV', () => {
    const out = join(dir, 'export.zip');
    const r = trellis('export', '--out', out);
    expect(r.code).toBe(0);
    const files = unzipSync(readFileSync(out));
    expect(Object.keys(files).sort()).toEqual([
      'README.txt',
      'alerts.json',
      'attributes.json',
      'audit-log.json',
      'bluetooth-devices.json',
      'device-events.json',
      'devices.json',
      'grants.json',
      'home-screens.json',
      'people.json',
      'readings.csv',
      'remote-commands.json',
      'rules.yaml',
      'usage.json',
    ]);
    const csv = strFromU8(files['readings.csv'] as Uint8Array);
    expect(csv.split('\n')[0]).toBe('device,attribute,time,value');
    expect(csv).toContain(`${DEVICE},note,`);
    expect(csv).toContain(VALUE);
    expect(JSON.parse(strFromU8(files['devices.json'] as Uint8Array))).toEqual(expect.arrayContaining([expect.objectContaining({ id: DEVICE })]));
    expect(JSON.parse(strFromU8(files['audit-log.json'] as Uint8Array)).map((e: { action: string }) => e.action)).toContain('grant.revoke');
  });

  it('erase before a date removes only older history; erase all leaves no trace of a reading in the file', () => {
    expect(fileHas(VALUE)).toBe(true);
    const older = trellis('erase', '--device', DEVICE, '--before', '2026-06-01');
    expect(older.out).toContain('erased 1 readings');
    const db = openDb(join(dir, 'data', 'trellis.db'), { synchronous: 'full' });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n).toBe(2);
    } finally {
      db.close();
    }
    expect(trellis('erase').code).toBe(0);
    expect(fileHas(VALUE)).toBe(false);
    expect(fileHas(DEVICE)).toBe(true); // the device itself is kept: erase is for history and usage
  });

  it('audit verify: exit 0 while intact, 1 naming the first altered row', () => {
    const ok = trellis('audit', 'verify');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/audit log intact: \d+ rows/);
    const db = openDb(join(dir, 'data', 'trellis.db'), { synchronous: 'full' });
    try {
      db.prepare("UPDATE audit_log SET subject = 'someone-else' WHERE id = 2").run();
    } finally {
      db.close();
    }
    const broken = trellis('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.out).toContain('audit log BROKEN at row 2');
  });

  it('factory-reset needs --yes, then wipes everything and proves it', () => {
    const refused = trellis('factory-reset');
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('run it again with --yes');
    expect(fileHas(DEVICE)).toBe(true);
    const r = trellis('factory-reset', '--yes');
    expect(r.code).toBe(0);
    expect(r.out).toContain('removed: trellis.db');
    expect(r.out).toMatch(new RegExp(`user rows left: none \\(${USER_TABLES.length} tables checked\\)`));
    // and the proof covers every table the schema has: a new table cannot be left out of it
    const db = openDb(join(dir, 'data', 'trellis.db'), { synchronous: 'normal' });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map(
        (t) => t.name,
      );
      expect([...tables].sort()).toEqual([...USER_TABLES].sort());
    } finally {
      db.close();
    }
    expect(fileHas(DEVICE)).toBe(false);
    expect(fileHas('coolco')).toBe(false);
  });
});
