import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../gateway/backup/create.ts';
import { readHeader } from '../../gateway/backup/envelope.ts';
import { restoreBackup } from '../../gateway/backup/restore.ts';
import { BIN } from '../helpers/gatewayProcess.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { connectClient, startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * Backup and restore as an owner whose SD card died would do it: a gateway with a device credential,
 * a paired phone, a grant, rules, its own CA, readings and usage; a sealed backup of it; restored
 * onto an empty data directory from nothing but the backup file and a config path, the device
 * connects with its old password, the phone's token works, the grant and the audit chain are intact.
 * A wrong passphrase, a flipped byte, a cut-short file, an edited header and a non-empty target are
 * each a clear error that writes nothing. The CLI does the same round trip.
 */
const dirs = new TempDirs();
const PASS = 'correct horse battery staple';
let home: string;
let gw: TestGateway;
let plugPassword: string;
let ownerToken: string;

const CONFIG = (port: number) => `gatewayId: shop-gw
dataDir: ./data
rules: {file: ./rules.yaml}
mqtt: {host: 127.0.0.1, port: ${port}, tls: self-signed, tlsPort: ${port + 1}}
lan: {host: 127.0.0.1, port: ${port + 2}}
`;
const RULES =
  "# the shop's rules (a comment that must survive)\nrules:\n  - id: hello\n    triggers: [{start: true}]\n    actions: [{notify: {message: 'The shop gateway is up', severity: info}}]\n";

beforeAll(async () => {
  home = dirs.make('trellis-backup-home-');
  writeFileSync(join(home, 'trellis.yaml'), CONFIG(18830));
  writeFileSync(join(home, 'rules.yaml'), RULES);
  gw = await startTestGateway(
    { gatewayId: 'shop-gw', dataDir: join(home, 'data'), rules: { file: join(home, 'rules.yaml') }, mqtt: { tls: 'self-signed' } },
    new TempDirs(),
  );
  plugPassword = await gw.running.credentials.create('plug-1');
  const plug = await connectClient(gw.url, { username: 'plug-1', password: plugPassword, clientId: 'plug-1' });
  for (let i = 0; i < 5; i++) await plug.publishAsync('trellis/plug-1/state', JSON.stringify({ power: 100 + i }), { qos: 1 });
  await plug.endAsync();
  await waitFor(() => gw.running.hub.state.attributes('plug-1').get('power')?.value === 104, 10_000, 'the plug reporting');
  const api = lanClient(gw.lanUrl);
  ownerToken = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive', password: 'correct horse' })).body.token;
  gw.running.grants.add({ providerId: 'coolco', devices: ['plug-1'], classes: ['usage'] });
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  gw.running.db.prepare("INSERT INTO usage_buckets (device_id, start, end, data) VALUES ('plug-1', ?, ?, '{}')").run(hour, hour + 3_600_000);
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  dirs.cleanup();
});

const backupOf = async (history: boolean) => {
  const out = join(dirs.make('trellis-backup-out-'), 'shop.tbk');
  const m = await createBackup(
    {
      db: gw.running.db,
      dataDir: join(home, 'data'),
      gatewayId: 'shop-gw',
      version: 'test',
      configFile: join(home, 'trellis.yaml'),
      rulesFile: join(home, 'rules.yaml'),
    },
    out,
    PASS,
    { history, now: Date.now() },
  );
  return { out, m };
};

describe('backup and restore', () => {
  it('restores onto an empty data directory: the device connects with its old password, the phone stays signed in, grants and the audit chain are intact', async () => {
    const { out, m } = await backupOf(false);
    expect(m.counts).toMatchObject({ devices: 1, credentials: 1, users: 1, grants: 1, usage_buckets: 1, readings: 0 });
    expect(readHeader(out).header).toMatchObject({ magic: 'trellis-backup', gatewayId: 'shop-gw', history: false });
    // nothing of the secrets is readable in the file
    const bytes = readFileSync(out);
    for (const secret of ['BEGIN', 'plug-1', 'Olive', 'coolco', 'the shop']) expect(bytes.includes(secret)).toBe(false);

    const card = dirs.make('trellis-new-card-');
    const report = await restoreBackup(out, PASS, join(card, 'trellis.yaml'));
    expect(report).toMatchObject({ gatewayId: 'shop-gw', history: false, dataDir: join(card, 'data'), auditRows: expect.any(Number) });
    expect(readFileSync(join(card, 'trellis.yaml'), 'utf8')).toBe(CONFIG(18830));
    expect(readFileSync(join(card, 'rules.yaml'), 'utf8')).toBe(RULES);
    expect(readFileSync(join(card, 'data', 'tls-ca-cert.pem'))).toEqual(readFileSync(join(home, 'data', 'tls-ca-cert.pem')));

    const restored = await startTestGateway({ gatewayId: 'shop-gw', dataDir: join(card, 'data'), rules: { file: join(card, 'rules.yaml') } }, new TempDirs());
    try {
      const plug = await connectClient(restored.url, { username: 'plug-1', password: plugPassword, clientId: 'plug-1' });
      await plug.endAsync();
      await expect(connectClient(restored.url, { username: 'plug-1', password: 'not-it', clientId: 'plug-x' })).rejects.toThrow();
      const me = await lanClient(restored.lanUrl).get('/api/me', ownerToken);
      expect(me.status).toBe(200);
      expect(me.body.user).toMatchObject({ name: 'Olive', role: 'owner' });
      expect(restored.running.grants.list(false).map((g) => g.providerId)).toEqual(['coolco']);
      expect(restored.running.audit.verify()).toMatchObject({ ok: true });
      expect(restored.running.registry.get('plug-1')).toBeDefined();
      // and its rules run: the restored rule file's start rule fired on this gateway
      await waitFor(
        () =>
          (restored.running.db.prepare("SELECT count(*) AS n FROM alerts WHERE rule_id = 'hello' AND at >= ?").get(report.createdAt) as { n: number }).n > 0,
        10_000,
        'the restored rule',
      );
      expect(restored.running.rules.ruleCount).toBe(1);
      const n = (sql: string) => (restored.running.db.prepare(sql).get() as { n: number }).n;
      expect(n('SELECT count(*) AS n FROM readings')).toBe(0);
      expect(n('SELECT count(*) AS n FROM usage_buckets')).toBe(1);
    } finally {
      await restored.stop();
    }
  });

  it('carries the raw history when asked', async () => {
    const { out, m } = await backupOf(true);
    expect(m.counts.readings).toBeGreaterThanOrEqual(5);
    const card = dirs.make('trellis-new-card-');
    const report = await restoreBackup(out, PASS, join(card, 'trellis.yaml'));
    expect(report.counts.readings).toBe(m.counts.readings);
  });

  it('refuses a wrong passphrase, a flipped byte, a cut-short file, an edited header and a non-empty target, writing nothing', async () => {
    const { out } = await backupOf(false);
    const good = readFileSync(out);
    const attempt = async (bytes: Buffer | undefined, passphrase = PASS, card = dirs.make('trellis-new-card-')) => {
      const file = join(dirs.make('trellis-bad-'), 'x.tbk');
      writeFileSync(file, bytes ?? good);
      const error = await restoreBackup(file, passphrase, join(card, 'trellis.yaml')).then(
        () => 'restored',
        (err: Error & { code?: string }) => `${err.code}: ${err.message}`,
      );
      return { error, left: readdirSync(card) };
    };
    const wrong = await attempt(undefined, 'not the passphrase');
    expect(wrong.error).toMatch(/^TRELLIS_E_BACKUP: .*the passphrase is not the one this backup was made with/);
    expect(wrong.left).toEqual([]);
    const flipped = Buffer.from(good);
    const at = Math.floor(flipped.length / 2);
    flipped[at] = (flipped[at] as number) ^ 0x01;
    expect(await attempt(flipped)).toEqual({ error: expect.stringMatching(/damaged or was altered/), left: [] });
    expect(await attempt(good.subarray(0, good.length - 100))).toEqual({ error: expect.stringMatching(/damaged or was altered|cut short/), left: [] });
    const edited = Buffer.from(good.toString('latin1').replace('"history":false', '"history":true '), 'latin1');
    expect(await attempt(edited)).toEqual({ error: expect.stringMatching(/damaged or was altered/), left: [] });
    expect((await attempt(Buffer.from('PK\u0003\u0004 not a backup'))).error).toMatch(/not a usable Trellis backup/);
    // a card that already has a gateway on it
    const used = dirs.make('trellis-used-card-');
    const first = await restoreBackup(out, PASS, join(used, 'trellis.yaml'));
    const dbBefore = readFileSync(join(first.dataDir, 'trellis.db'));
    const again = await attempt(undefined, PASS, used);
    expect(again.error).toMatch(/already has a database: a restore goes onto an empty data directory/);
    expect(readFileSync(join(first.dataDir, 'trellis.db'))).toEqual(dbBefore);
  });

  it('the CLI: trellis backup while the gateway runs, then trellis restore onto a new card', () => {
    const passFile = join(home, 'backup-pass');
    writeFileSync(passFile, `${PASS}\n`);
    const out = join(dirs.make('trellis-cli-backup-'), 'cli.tbk');
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TRELLIS_CONFIG: '' } });
    const made = run(['backup', '--config', join(home, 'trellis.yaml'), '--out', out, '--passphrase-file', passFile]);
    expect(made.stderr).toBe('');
    expect(made.stdout).toMatch(/^Backup written to .*cli\.tbk: 1 devices, 1 device credentials, 1 people, 1 grants, \d+ audit entries/);
    expect(run(['backup', '--config', join(home, 'trellis.yaml'), '--out', out, '--passphrase-file', passFile]).status).not.toBe(0); // never over a file
    const card = dirs.make('trellis-cli-card-');
    const noPass = run(['restore', out, '--config', join(card, 'trellis.yaml')]);
    expect(noPass.status).not.toBe(0);
    expect(noPass.stderr).toMatch(/no passphrase: give --passphrase-file FILE/);
    const restored = run(['restore', out, '--config', join(card, 'trellis.yaml'), '--passphrase-file', passFile]);
    expect(restored.stdout).toMatch(/Restored the backup of gateway shop-gw made .* UTC into .*data: 1 devices.*audit log intact/);
    expect(existsSync(join(card, 'data', 'trellis.db'))).toBe(true);
    const verify = run(['audit', 'verify', '--config', join(card, 'trellis.yaml')]);
    expect(verify.stdout).toMatch(/^audit log intact: \d+ rows/);
  });

  it('an encrypted database: its key travels in the backup and is put where the restored config wants it', async () => {
    const site = dirs.make('trellis-keyed-');
    writeFileSync(join(site, 'trellis.yaml'), 'gatewayId: vault\ndataDir: ./data\nstore: {keyFile: ./db.key}\n');
    const keyed = await startTestGateway({ gatewayId: 'vault', dataDir: join(site, 'data'), store: { keyFile: join(site, 'db.key') } }, new TempDirs());
    const password = await keyed.running.credentials.create('safe-1');
    const out = join(dirs.make('trellis-keyed-out-'), 'vault.tbk');
    try {
      await createBackup(
        {
          db: keyed.running.db,
          dataDir: join(site, 'data'),
          gatewayId: 'vault',
          version: 'test',
          configFile: join(site, 'trellis.yaml'),
          rulesFile: join(site, 'rules.yaml'),
          keyFile: join(site, 'db.key'),
        },
        out,
        PASS,
        { history: false, now: Date.now(), key: readFileSync(join(site, 'db.key'), 'utf8').trim() },
      );
    } finally {
      await keyed.stop();
    }
    const card = dirs.make('trellis-keyed-card-');
    const report = await restoreBackup(out, PASS, join(card, 'trellis.yaml'));
    expect(report.wrote).toContain(join(card, 'db.key'));
    expect(readFileSync(join(card, 'db.key'), 'utf8')).toBe(readFileSync(join(site, 'db.key'), 'utf8'));
    expect(
      readFileSync(join(card, 'data', 'trellis.db'))
        .subarray(0, 15)
        .toString('latin1'),
    ).not.toBe('SQLite format 3'); // still encrypted at rest
    const back = await startTestGateway({ gatewayId: 'vault', dataDir: join(card, 'data'), store: { keyFile: join(card, 'db.key') } }, new TempDirs());
    try {
      const safe = await connectClient(back.url, { username: 'safe-1', password, clientId: 'safe-1' });
      await safe.endAsync();
    } finally {
      await back.stop();
    }
  });
});
