import { createServer, type Server } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromObject } from '../../gateway/config/load.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { freePort } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway } from '../helpers/testGateway.ts';

/** The composition root from outside: what a failed start leaves behind, and what a stop releases. */
const dirs = new TempDirs();
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  dirs.cleanup();
});

const hold = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      servers.push(s);
      resolve(s);
    });
  });

function gatewayOn(mqttPort: number, lanPort: number) {
  const dir = dirs.make();
  const { config } = configFromObject({
    dataDir: dir,
    rules: { file: `${dir}/rules.yaml` },
    store: { synchronous: 'normal' },
    mqtt: { host: '127.0.0.1', port: mqttPort },
    lan: { host: '127.0.0.1', port: lanPort },
  });
  return new Gateway({ config, logger: pino({ level: 'silent' }) });
}

describe('composition root', () => {
  it('a port taken by another program fails the start with TRELLIS_E_BROKER and releases what had started', async () => {
    const mqttPort = await freePort();
    await hold(mqttPort);
    const gw = gatewayOn(mqttPort, await freePort());
    await expect(gw.start()).rejects.toMatchObject({ code: 'TRELLIS_E_BROKER', message: expect.stringContaining('EADDRINUSE') });
    expect(gw.running).toBeUndefined();
  });

  it('a service failing after the broker started (the LAN port is taken) closes the broker again', async () => {
    const mqttPort = await freePort();
    const lanPort = await freePort();
    await hold(lanPort);
    const gw = gatewayOn(mqttPort, lanPort);
    await expect(gw.start()).rejects.toThrow(/EADDRINUSE/);
    // the broker had listened on mqttPort: it must be free again
    await hold(mqttPort);
    await gw.stop();
  });

  it('stopping releases every bus subscription, including those of open phone sockets', async () => {
    const gw = await startTestGateway({ cloud: {}, metering: { enabled: true } }, dirs);
    const bus = gw.running.bus;
    expect(bus.listenerCount('event')).toBeGreaterThanOrEqual(2); // rules, maintenance
    expect(bus.listenerCount('buckets')).toBeGreaterThanOrEqual(1); // maintenance
    await gw.gateway.stop();
    expect(bus.listenerCount()).toBe(0);
  });
});
