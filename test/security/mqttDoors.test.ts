import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_CERT_DAYS } from '../../gateway/net/certificates.ts';
import { connectClient, startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/** CONNACK code of an attempt (0 = accepted; the client is closed either way). */
async function connack(url: string, options: Parameters<typeof connectClient>[1]): Promise<number | undefined> {
  try {
    (await connectClient(url, options)).end(true);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

describe('client ids belong to credentials', () => {
  const dirs = new TempDirs();
  let gw: TestGateway;
  const pw: Record<string, string> = {};
  beforeAll(async () => {
    gw = await startTestGateway({ mqtt: { allowAnonymous: true } }, dirs);
    for (const name of ['plug-1', 'door-1', 'lock-1']) pw[name] = await gw.running.credentials.create(name);
  });
  afterAll(() => gw.stop());

  it("a squatter with its own credential cannot take an offline device's client id, nor block its reconnect", async () => {
    expect(await connack(gw.url, { username: 'plug-1', password: pw['plug-1'], clientId: 'DVES_7C2F4E' })).toBe(0); // the real device, then it reboots
    expect(await connack(gw.url, { username: 'door-1', password: pw['door-1'], clientId: 'DVES_7C2F4E' })).toBe(2); // refused although the owner is offline
    const owner = await connectClient(gw.url, { username: 'plug-1', password: pw['plug-1'], clientId: 'DVES_7C2F4E' });
    expect(owner.connected).toBe(true);
    expect(await connack(gw.url, { username: 'door-1', password: pw['door-1'], clientId: 'DVES_7C2F4E' })).toBe(2); // nor while it is online
    expect(owner.connected).toBe(true);
    owner.end(true);
  });

  it("the same credential takes its own session over (MQTT's rule)", async () => {
    const first = await connectClient(gw.url, { username: 'plug-1', password: pw['plug-1'], clientId: 'plug-1-a', reconnectPeriod: 0 });
    const gone = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const second = await connectClient(gw.url, { username: 'plug-1', password: pw['plug-1'], clientId: 'plug-1-a' });
    await gone;
    expect(second.connected).toBe(true);
    second.end(true);
  });

  it("anonymous devices cannot use a credential's client id or user name", async () => {
    expect(await connack(gw.url, { clientId: 'DVES_7C2F4E' })).toBe(2);
    expect(await connack(gw.url, { clientId: 'door-1' })).toBe(2); // it would own door-1/#
    expect(await connack(gw.url, { clientId: 'anon-sensor-9' })).toBe(0);
  });

  it('reserved ids (device add --client-id) are the only ones their credential may use, and nobody else may', async () => {
    gw.running.clientIds.reserve('lock-1', ['backdoor-lock']);
    expect(await connack(gw.url, { username: 'lock-1', password: pw['lock-1'], clientId: 'something-else' })).toBe(2);
    expect(await connack(gw.url, { username: 'door-1', password: pw['door-1'], clientId: 'backdoor-lock' })).toBe(2);
    expect(await connack(gw.url, { username: 'lock-1', password: pw['lock-1'], clientId: 'backdoor-lock' })).toBe(0);
  });

  it('bindings survive a restart', async () => {
    await gw.gateway.stop();
    const again = await gw.gateway.start();
    const url = `mqtt://127.0.0.1:${again.mqttAddress.port}`;
    expect(await connack(url, { username: 'door-1', password: pw['door-1'], clientId: 'DVES_7C2F4E' })).toBe(2);
    expect(await connack(url, { username: 'plug-1', password: pw['plug-1'], clientId: 'DVES_7C2F4E' })).toBe(0);
  });
});

describe('MQTT over TLS and the gateway certificate', () => {
  const dirs = new TempDirs();
  let gw: TestGateway;
  let ca: string;
  let tlsUrl: string;
  beforeAll(async () => {
    gw = await startTestGateway({ gatewayId: 'shop-9', mqtt: { tls: 'self-signed' }, lan: { tls: 'self-signed' } }, dirs);
    ca = readFileSync(join(gw.dir, 'tls-ca-cert.pem'), 'utf8');
    tlsUrl = `mqtts://127.0.0.1:${gw.running.mqttTls?.port}`;
  });
  afterAll(() => gw.stop());

  it('a device with its credential connects over TLS, verifying the gateway against its CA, and its readings arrive', async () => {
    const password = await gw.running.credentials.create('tls-plug');
    const client = await connectClient(tlsUrl, { username: 'tls-plug', password, clientId: 'tls-plug', ca, rejectUnauthorized: true });
    await client.publishAsync('trellis/tls-plug/state', JSON.stringify({ power: 12.5 }), { qos: 1 });
    await waitFor(() => gw.running.hub.state.get('tls-plug', 'power') === 12.5, 3000, 'the reading over TLS');
    client.end(true);
  });

  it('refuses a wrong password over TLS too, and a client that does not trust the CA cannot connect', async () => {
    await gw.running.credentials.create('tls-door');
    expect(await connack(tlsUrl, { username: 'tls-door', password: 'wrong', clientId: 'tls-door', ca })).toBe(4);
    await expect(connectClient(tlsUrl, { username: 'tls-door', password: 'x', clientId: 'x2', rejectUnauthorized: true })).rejects.toThrow(
      /self-signed|unable to verify|certificate/i,
    );
  });

  it("the certificate: SHA-256, issued by the gateway CA, valid 825 days, the gateway's names and addresses in its SAN", () => {
    const pem = readFileSync(join(gw.dir, 'tls-cert.pem'), 'utf8');
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).not.toMatch(/sha1/i);
    const cert = new X509Certificate(pem);
    expect(cert.checkIssued(new X509Certificate(ca))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(SERVER_CERT_DAYS); // 825, counted from an hour before issue
    const san = cert.subjectAltName ?? '';
    for (const name of ['DNS:localhost', 'DNS:trellis-shop-9.local', `DNS:${hostname().toLowerCase()}`, 'IP Address:127.0.0.1']) expect(san).toContain(name);
    expect(execFileSync('openssl', ['x509', '-noout', '-text'], { input: ca, encoding: 'utf8' })).toMatch(/CA:TRUE/);
  });

  it('the LAN API and the MQTT listener serve the same certificate', async () => {
    const peer = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: gw.running.mqttTls?.port as number, ca }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    expect(peer).toBe(gw.running.mqttTls?.fingerprint);
    expect(gw.running.lan?.fingerprint).toBe(peer);
  });

  it('renews before it ends: the new certificate comes from the same CA and both listeners serve it without a restart', async () => {
    const tls = gw.running.tls;
    if (!tls) throw new Error('no self-signed TLS');
    const before = gw.running.mqttTls?.fingerprint;
    const beforeKey = new X509Certificate((await tls.material()).cert).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    await tls.check(Date.now() + (SERVER_CERT_DAYS - 10) * 86_400_000); // 10 days before the end
    const renewed = await tls.material();
    expect(renewed.fingerprint).not.toBe(before);
    // the key pair stays: firmware that pins the server's public key keeps working
    const spki = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(spki(renewed.cert)).toBe(spki(readFileSync(join(gw.dir, 'tls-cert.pem'), 'utf8')));
    expect(spki(renewed.cert)).toBe(beforeKey);
    expect(new X509Certificate(renewed.cert).checkIssued(new X509Certificate(ca))).toBe(true);
    const served = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: gw.running.mqttTls?.port as number, ca }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });
    expect(served).toBe(renewed.fingerprint);
    expect(gw.running.lan?.fingerprint).toBe(renewed.fingerprint);
  });

  it('mqtt.plain: false leaves only the TLS port', async () => {
    const only = await startTestGateway({ mqtt: { tls: 'self-signed', plain: false } }, dirs);
    try {
      expect(only.running.mqtt.address).toBeUndefined();
      expect(only.running.mqttTls?.port).toBeGreaterThan(0);
    } finally {
      await only.gateway.stop();
    }
  });
});
