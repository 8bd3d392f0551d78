import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { GatewayNames } from './names.ts';

/** PEM certificate (with the CA after it) and key a TLS listener serves, and what a client can pin. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** the CA that issued `cert` (self-signed mode), for devices and phones to trust once */
  readonly ca: string | undefined;
  /** SHA-256 fingerprint of the server certificate */
  readonly fingerprint: string;
  readonly caFingerprint: string | undefined;
  readonly notAfter: Date;
}

const DAY_MS = 86_400_000;
/**
 * The server certificate is valid 825 days (Apple's limit for TLS server certificates, also for
 * user-trusted CAs) and renewed 30 days before it ends, or at once when the gateway's names or
 * addresses are no longer all in its SAN. The CA that issues it is valid 20 years and never changes
 * by itself, so a device or phone that trusts the CA keeps working across renewals.
 */
export const SERVER_CERT_DAYS = 825;
export const RENEW_BEFORE_DAYS = 30;
export const CA_DAYS = 20 * 365;

const FILES = { caCert: 'tls-ca-cert.pem', caKey: 'tls-ca-key.pem', cert: 'tls-cert.pem', key: 'tls-key.pem' } as const;
/** certificates older Trellis versions made (SHA-1, self-signed, no SAN): replaced, not reused */
const OLD_FILES = ['lan-cert.pem', 'lan-key.pem'];

/** Why the server certificate must be issued again, or undefined if it is good. */
export function renewalReason(certPem: string, caPem: string, names: GatewayNames, now: number): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkIssued(new X509Certificate(caPem))) return 'not issued by the gateway CA';
  } catch {
    return 'unreadable';
  }
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_DAYS * DAY_MS) return `ends ${cert.validTo}`;
  const san = sanEntries(cert.subjectAltName ?? '');
  const missing = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.filter(usableIp).map((ip) => `IP:${canonicalIp(ip)}`)].filter((e) => !san.has(e));
  return missing.length > 0 ? `its SAN lacks ${missing.slice(0, 3).join(', ')}` : undefined;
}

/**
 * The self-signed TLS material in `dataDir`, made or renewed as needed: a gateway CA (EC P-256,
 * SHA-256) and a server certificate it issues for every name and address the gateway has.
 * Keys are written 0600. `decideAt` is when renewal is judged (tests look ahead); certificates are
 * always issued from the present.
 */
export async function selfSignedMaterial(
  dataDir: string,
  names: GatewayNames,
  decideAt = Date.now(),
): Promise<{ material: TlsMaterial; renewed: string | undefined }> {
  const now = Date.now();
  const path = (f: string) => join(dataDir, f);
  for (const f of OLD_FILES) rmSync(path(f), { force: true });
  // loaded only to issue a certificate: most starts just read the PEM files
  const generate = async (...args: Parameters<typeof import('selfsigned').generate>) => (await import('selfsigned')).generate(...args);
  let renewed: string | undefined;
  if (!existsSync(path(FILES.caCert)) || !existsSync(path(FILES.caKey))) {
    const ca = await generate([{ name: 'commonName', value: `Trellis gateway CA ${names.dns.find((d) => d.startsWith('trellis-')) ?? ''}`.trim() }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 3_600_000),
      notAfterDate: new Date(now + CA_DAYS * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    writeSecret(path(FILES.caKey), ca.private);
    writeAtomic(path(FILES.caCert), ca.cert);
    rmSync(path(FILES.cert), { force: true });
    renewed = 'new CA';
  }
  const caPem = readFileSync(path(FILES.caCert), 'utf8');
  const caKey = readFileSync(path(FILES.caKey), 'utf8');
  const reason =
    existsSync(path(FILES.cert)) && existsSync(path(FILES.key)) ? renewalReason(readFileSync(path(FILES.cert), 'utf8'), caPem, names, decideAt) : 'none yet';
  if (reason) {
    const altNames = [...names.dns.map((value) => ({ type: 2 as const, value })), ...names.ips.filter(usableIp).map((ip) => ({ type: 7 as const, ip }))];
    // A renewal keeps the server's key pair: firmware that pins the public key (Tasmota's
    // SetOption132 fingerprint) keeps working; only a new CA makes a new key.
    const keyPair = renewed === undefined && existsSync(path(FILES.key)) ? existingKeyPair(readFileSync(path(FILES.key), 'utf8')) : undefined;
    const issued = await generate([{ name: 'commonName', value: names.dns.find((d) => d.startsWith('trellis-')) ?? 'trellis' }], {
      ...(keyPair ? { keyPair } : {}),
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - 3_600_000),
      notAfterDate: new Date(now + SERVER_CERT_DAYS * DAY_MS),
      ca: { key: caKey, cert: caPem },
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames },
      ],
    });
    writeSecret(path(FILES.key), issued.private);
    writeAtomic(path(FILES.cert), issued.cert);
    renewed ??= reason;
  }
  const certPem = readFileSync(path(FILES.cert), 'utf8');
  return { material: describe(`${certPem.trimEnd()}\n${caPem}`, readFileSync(path(FILES.key), 'utf8'), caPem), renewed };
}

function existingKeyPair(privatePem: string): { privateKey: string; publicKey: string } | undefined {
  try {
    const key = createPrivateKey(privatePem);
    return {
      privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
    };
  } catch {
    return undefined; // unreadable: a new key
  }
}

/** The owner's own certificate and key (`tls: files`). */
export function fileMaterial(certFile: string, keyFile: string): TlsMaterial {
  return describe(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'), undefined);
}

function describe(cert: string, key: string, ca: string | undefined): TlsMaterial {
  const leaf = new X509Certificate(cert);
  return {
    cert,
    key,
    ca,
    fingerprint: leaf.fingerprint256,
    caFingerprint: ca ? new X509Certificate(ca).fingerprint256 : undefined,
    notAfter: new Date(leaf.validTo),
  };
}

/** Link-local IPv6 needs a zone and cannot be named in a certificate. */
const usableIp = (ip: string) => !(isIP(ip) === 6 && /^fe[89ab]/i.test(ip));

function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function sanEntries(san: string): Set<string> {
  const out = new Set<string>();
  for (const part of san.split(', ')) {
    if (part.startsWith('DNS:')) out.add(part);
    else if (part.startsWith('IP Address:')) out.add(`IP:${canonicalIp(part.slice('IP Address:'.length))}`);
  }
  return out;
}

function writeAtomic(file: string, text: string, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

const writeSecret = (file: string, text: string) => writeAtomic(file, text, 0o600);
