import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreBackup } from '../../gateway/backup/restore.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { connectClient, startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * Automatic backups on a schedule (every second here) keep the newest N; the app shows them, backs up
 * now and downloads one sealed with a passphrase typed there; and a database found damaged at the
 * next start is replaced by the newest good backup (not an empty one): the device's credential still
 * works and the alert says what was restored and from when.
 */
const dirs = new TempDirs();
const home = dirs.make('trellis-autobackup-');
const data = join(home, 'data');
const backups = join(home, 'usb-stick');
const passFile = join(home, 'pass');
let gw: TestGateway;
let api: ReturnType<typeof lanClient>;
let owner: string;
let plugPassword: string;

const start = () =>
  startTestGateway(
    { gatewayId: 'home-gw', dataDir: data, backup: { dir: backups, passphraseFile: passFile, schedule: '* * * * * *', keep: 2 } },
    new TempDirs(),
  );

beforeAll(async () => {
  writeFileSync(passFile, 'a long enough passphrase\n');
  gw = await start();
  plugPassword = await gw.running.credentials.create('plug-1');
  api = lanClient(gw.lanUrl);
  owner = (await api.post('/api/pair', { code: gw.running.lan?.pairingCode, name: 'Olive', password: 'correct horse' })).body.token;
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  dirs.cleanup();
});

describe('automatic backups', () => {
  it('writes one on schedule and keeps the newest two, and the app shows them', async () => {
    const since = Date.now();
    await waitFor(
      async () => {
        const s = (await api.get('/api/backup', owner)).body;
        return s.lastAt !== null && s.lastAt > since + 2500 ? s : undefined; // three runs or more
      },
      15_000,
      'three scheduled backups',
    );
    const status = (await api.get('/api/backup', owner)).body;
    expect(status).toMatchObject({ enabled: true, dir: backups, lastError: null, nextAt: expect.any(Number) });
    expect(status.kept).toHaveLength(2);
    expect(status.kept.map((k: { name: string }) => k.name)).toEqual(
      readdirSync(backups)
        .filter((n) => n.endsWith('.tbk'))
        .sort()
        .reverse(),
    );
    expect(status.kept[0].name).toMatch(/^trellis-home-gw-\d{8}T\d{9}Z\.tbk$/);
    const now = await api.post('/api/backup/now', {}, owner);
    expect(now.status).toBe(200);
    expect(now.body.counts).toMatchObject({ credentials: 1, users: 1 });
  });

  it('downloads a backup sealed with the passphrase typed in the app, and leaves no copy behind', async () => {
    const short = await api.post('/api/backup/download', { passphrase: 'short' }, owner);
    expect(short.status).toBe(400);
    expect(short.body.message).toMatch(/passphrase.*at least 8 characters/);
    const res = await fetch(`${gw.lanUrl}/api/backup/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
      body: JSON.stringify({ passphrase: 'typed on the phone' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="trellis-backup-\d{8}T\d{6}Z\.tbk"$/);
    const file = join(dirs.make('trellis-download-'), 'phone.tbk');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    await waitFor(() => readdirSync(join(data, 'downloads')).length === 0, 5_000, 'the staged copy removed');
    const card = dirs.make('trellis-card-');
    writeFileSync(join(card, 'trellis.yaml'), 'dataDir: ./data\n');
    const report = await restoreBackup(file, 'typed on the phone', join(card, 'trellis.yaml'));
    expect(report.counts).toMatchObject({ credentials: 1, users: 1 });
    const audit = gw.running.db.prepare("SELECT actor FROM audit_log WHERE action = 'lan.backup.download'").all();
    expect(audit).toEqual([{ actor: 'owner:Olive' }]);
  });

  it('replaces a database found damaged at start with the newest good backup, and says so', async () => {
    await gw.gateway.stop();
    const newest = readdirSync(backups).sort().reverse()[0] as string;
    for (const suffix of ['-wal', '-shm']) rmSync(join(data, `trellis.db${suffix}`), { force: true });
    writeFileSync(join(data, 'trellis.db'), Buffer.alloc(64 * 1024)); // the SD card ate it
    gw = await start();
    api = lanClient(gw.lanUrl);
    expect(readdirSync(data).some((f) => f.startsWith('trellis.db.corrupt-'))).toBe(true);
    const plug = await connectClient(gw.url, { username: 'plug-1', password: plugPassword, clientId: 'plug-1' });
    await plug.endAsync();
    expect((await api.get('/api/me', owner)).status).toBe(200); // the phone is still paired
    const alert = gw.running.db.prepare("SELECT severity, message FROM alerts WHERE source = 'gateway' ORDER BY id DESC").get() as {
      severity: string;
      message: string;
    };
    expect(alert.severity).toBe('critical');
    expect(alert.message).toMatch(/was damaged and was set aside as .*; Trellis restored the backup of \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(alert.message).toContain(newest);
    expect(alert.message).toContain('1 device credentials');
  });
});
