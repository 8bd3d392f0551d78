import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../gateway/store/credentials.ts';
import { openDb } from '../../gateway/store/db.ts';
import { freePort, spawnGateway } from '../helpers/gatewayProcess.ts';
import { connectClient } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

const ROUNDS = 20;
const DEVICES = 10;
const PER_DEVICE = 1000; // 10,000 QoS 1 readings per round

/**
 * A QoS 1 reading is committed before the device gets its PUBACK. The gateway runs as its own process
 * and is killed with SIGKILL at a random point while devices publish; afterwards every reading a device
 * saw acknowledged must be in the database. Twenty rounds, one data directory (each round also
 * recovers the previous round's WAL).
 */
describe('durability under SIGKILL', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it(`keeps every acknowledged QoS 1 reading across ${ROUNDS} SIGKILLs`, async () => {
    const dir = dirs.make();
    const port = await freePort();
    const configFile = join(dir, 'trellis.yaml');
    writeFileSync(
      configFile,
      [`dataDir: ${join(dir, 'data')}`, 'mqtt:', '  host: 127.0.0.1', `  port: ${port}`, `lan: {host: 127.0.0.1, port: ${await freePort()}}`, ''].join('\n'),
    );
    const passwords: string[] = [];
    {
      const db = openDb(join(dir, 'data', 'trellis.db'), { synchronous: 'full' });
      const store = new CredentialStore(db);
      for (let d = 0; d < DEVICES; d++) passwords.push(await store.create(`dev-${d}`));
      db.close();
    }

    let totalAcked = 0;
    let killedMidway = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const gateway = await spawnGateway(configFile);
      const acked: number[][] = Array.from({ length: DEVICES }, () => []);
      const attribute = `seq_r${round}`;
      const killAfter = Math.floor(Math.random() * DEVICES * PER_DEVICE * 1.1); // sometimes after all are acked
      let acks = 0;
      let killed: Promise<unknown> | undefined;
      const kill = () => (killed ??= gateway.stop('SIGKILL'));
      const clients: MqttClient[] = [];
      try {
        for (let d = 0; d < DEVICES; d++) {
          clients.push(await connectClient(`mqtt://127.0.0.1:${gateway.port}`, { username: `dev-${d}`, password: passwords[d], clientId: `dev-${d}` }));
        }
        if (killAfter === 0) kill();
        await Promise.all(
          clients.map(
            (client, d) =>
              new Promise<void>((resolve) => {
                let settled = 0;
                for (let seq = 0; seq < PER_DEVICE; seq++) {
                  client.publish(`trellis/dev-${d}/state`, JSON.stringify({ [attribute]: seq }), { qos: 1 }, (err) => {
                    if (!err && !killed) {
                      // recorded only when the PUBACK arrived before we pulled the plug
                      acked[d]?.push(seq);
                      if (++acks === killAfter) kill();
                    }
                    if (++settled === PER_DEVICE) resolve();
                  });
                }
                client.once('close', () => resolve());
              }),
          ),
        );
      } finally {
        for (const c of clients) c.end(true);
        await kill();
      }
      if (acks < DEVICES * PER_DEVICE) killedMidway++;

      const db = openDb(join(dir, 'data', 'trellis.db'), { synchronous: 'full' });
      try {
        const stored = db.prepare('SELECT r.num FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = ? AND s.attribute = ?');
        for (let d = 0; d < DEVICES; d++) {
          const have = new Set((stored.all(`dev-${d}`, attribute) as Array<{ num: number }>).map((r) => r.num));
          const missing = (acked[d] ?? []).filter((seq) => !have.has(seq));
          expect(missing, `round ${round}, dev-${d}: acknowledged but not stored`).toEqual([]);
        }
      } finally {
        db.close();
      }
      totalAcked += acks;
    }
    // The test must have exercised real kills with data in flight, not only clean ends.
    expect(killedMidway).toBeGreaterThan(ROUNDS / 2);
    expect(totalAcked).toBeGreaterThan(0);
  }, 300_000);
});
