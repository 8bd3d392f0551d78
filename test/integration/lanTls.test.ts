import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Advertiser } from '../../gateway/lan/service.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway } from '../helpers/testGateway.ts';

const dirs = new TempDirs();
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  dirs.cleanup();
});

/** GET over HTTPS trusting only `ca` (chain and host name checked), returning the status and the certificate the server presented. */
function httpsGet(url: string, ca: string): Promise<{ status: number; fingerprint: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('LAN TLS and mDNS', () => {
  it('issues a certificate from its own CA on first start, keeps it across restarts, and serves HTTPS with it', async () => {
    gw = await startTestGateway({ lan: { tls: 'self-signed' } }, dirs);
    const fingerprint = gw.running.lan?.fingerprint;
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(gw.lanUrl.startsWith('https://')).toBe(true);
    const cert = readFileSync(join(gw.dir, 'tls-cert.pem'), 'utf8');
    expect(new X509Certificate(cert).fingerprint256).toBe(fingerprint);
    const ca = readFileSync(join(gw.dir, 'tls-ca-cert.pem'), 'utf8');
    const r = await httpsGet(`${gw.lanUrl}/api/health`, ca); // 127.0.0.1 is in the certificate's SAN
    expect(r.status).toBe(200);
    expect(r.fingerprint).toBe(fingerprint);
    await expect(fetch(`${gw.lanUrl.replace('https', 'http')}/api/health`)).rejects.toThrow(); // no plain HTTP
    await gw.gateway.stop();
    const again = await gw.gateway.start(); // same data directory: the same certificate
    expect(again.lan?.fingerprint).toBe(fingerprint);
    expect((await httpsGet(`https://127.0.0.1:${again.lan?.address?.port}/ca.pem`, ca)).body).toBe(ca); // phones and devices fetch the CA here
  });

  it('advertises _trellis._tcp only when lan.mdns is on', async () => {
    const published: Array<{ name: string; port: number; txt: Record<string, string> }> = [];
    let stopped = 0;
    const fake = async (): Promise<Advertiser> => ({
      publish: (name, port, txt) => void published.push({ name, port, txt }),
      stop: async () => void stopped++,
    });
    gw = await startTestGateway({ gatewayId: 'shop-1' }, dirs, undefined, fake);
    expect(published).toEqual([]);
    await gw.stop();
    gw = await startTestGateway({ gatewayId: 'shop-1', lan: { mdns: true } }, dirs, undefined, fake);
    expect(published).toEqual([{ name: 'Trellis shop-1', port: gw.running.lan?.address?.port, txt: { id: 'shop-1', tls: '0', path: '/' } }]);
    await gw.stop();
    gw = undefined;
    expect(stopped).toBe(1);
  });
});
