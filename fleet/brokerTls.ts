import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const DAY = 86_400_000;

/**
 * The embedded broker's certificate: self-signed, made on first start in `dir` (cert.pem, key.pem),
 * for localhost, 127.0.0.1, ::1, this host's name and `names`. Gateways trust it by taking cert.pem as
 * their `cloud.ca`. Kept across restarts, so gateways keep trusting it.
 */
export async function brokerTls(dir: string, names: readonly string[] = []): Promise<{ cert: string; key: string; certFile: string }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const { generate } = await import('selfsigned');
    const dns = [...new Set(['localhost', hostname(), ...names.filter((n) => !/^[\d.:]+$/.test(n))])];
    const ips = [...new Set(['127.0.0.1', '::1', ...names.filter((n) => /^[\d.:]+$/.test(n))])];
    const now = Date.now();
    const pems = await generate([{ name: 'commonName', value: `Trellis Fleet broker ${hostname()}` }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 3_600_000),
      notAfterDate: new Date(now + 3650 * DAY),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
      ],
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}
