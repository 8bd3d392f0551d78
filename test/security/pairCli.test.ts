import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, freePort, spawnGateway } from '../helpers/gatewayProcess.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { connectClient, waitFor } from '../helpers/testGateway.ts';

function trellis(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TRELLIS_CONFIG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What an owner does at the gateway's terminal; what a service's log (no terminal) shows. */
describe('pairing from the command line, and reserved client ids', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('a gateway started without a terminal logs no pairing code; `trellis pair` prints one that pairs the owner; `device add --client-id` reserves ids', async () => {
    const dir = dirs.make();
    const lanPort = await freePort();
    const config = join(dir, 'trellis.yaml');
    writeFileSync(config, `dataDir: ./data\nmqtt: {host: 127.0.0.1, port: ${await freePort()}}\nlan: {host: 127.0.0.1, port: ${lanPort}}\n`);
    const gateway = await spawnGateway(config);
    try {
      // stderr is a pipe here, as under systemd: the code goes to neither the JSON log nor the banner
      // the hint is printed once start-up has finished (the broker listens earlier); on a loaded machine that takes a while
      await waitFor(() => gateway.output().includes('trellis pair'), 10_000, 'the "run trellis pair" hint');
      expect(gateway.output()).not.toMatch(/\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b/);
      const printed = trellis(['pair', '--config', config]);
      expect(printed.code).toBe(0);
      const code = /enter the code ([0-9A-Z]{4}-[0-9A-Z]{4})/.exec(printed.stdout)?.[1] as string;
      expect(printed.stdout).toContain(`http://127.0.0.1:${lanPort}/#/pair?code=${code}`);
      const api = lanClient(`http://127.0.0.1:${lanPort}`);
      const paired = await api.post('/api/pair', { code, name: 'Olive' });
      expect(paired.status).toBe(200);
      expect(paired.body.user.role).toBe('owner');
      expect((await api.post('/api/pair', { code, name: 'Eve' })).status).toBe(400); // one time

      const added = trellis(['device', 'add', 'back-lock', '--client-id', 'lock-7f', '--config', config]);
      expect(added.code).toBe(0);
      expect(added.stdout).toContain('client id: lock-7f (only these');
      const password = /password:\s+(\S+)/.exec(added.stdout)?.[1] as string;
      const url = `mqtt://127.0.0.1:${gateway.port}`;
      await expect(connectClient(url, { username: 'back-lock', password, clientId: 'other-id' })).rejects.toMatchObject({ code: 2 });
      (await connectClient(url, { username: 'back-lock', password, clientId: 'lock-7f' })).end(true);
    } finally {
      expect(await gateway.stop('SIGTERM')).toBe(0);
    }
  }, 60_000);
});
