import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import type { App, LanContext } from './context.ts';
import { buildLanServer } from './server.ts';

export interface LanConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: 'off' | 'self-signed' | 'files';
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly mdns: boolean;
  readonly authAttemptsPerMinute: number;
}

/** Announces the gateway on the LAN (mDNS `_trellis._tcp`); injected so tests need no multicast. */
export interface Advertiser {
  publish(name: string, port: number, txt: Record<string, string>): void;
  stop(): Promise<void>;
}

export async function bonjourAdvertiser(): Promise<Advertiser> {
  const { Bonjour } = await import('bonjour-service');
  const bonjour = new Bonjour();
  return {
    publish: (name, port, txt) => void bonjour.publish({ name, type: 'trellis', protocol: 'tcp', port, txt }),
    stop: () => new Promise<void>((resolve) => bonjour.unpublishAll(() => bonjour.destroy(() => resolve()))),
  };
}

export interface LanServiceDeps {
  readonly config: LanConfig;
  readonly dataDir: string;
  readonly gatewayId: string;
  readonly log: Logger;
  readonly context: Omit<LanContext, 'publicUrl'>;
  readonly advertiser?: (() => Promise<Advertiser>) | undefined;
}

/**
 * Runs the LAN API: TLS material, listening, the first-start pairing code, mDNS. The pairing code is
 * issued while no owner exists; redeeming it on the phone creates the owner.
 */
export class LanService {
  readonly #d: LanServiceDeps;
  #app: App | undefined;
  #advertiser: Advertiser | undefined;
  #url = '';
  pairingCode: string | undefined;
  /** sha256 fingerprint of the HTTPS certificate, when TLS is on */
  fingerprint: string | undefined;

  constructor(deps: LanServiceDeps) {
    this.#d = deps;
  }

  get url(): string {
    return this.#url;
  }

  get address(): { host: string; port: number } | undefined {
    const a = this.#app?.server.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    const { config, log } = this.#d;
    const tls = await this.#tls();
    const app = await buildLanServer({ ...this.#d.context, publicUrl: () => this.#url }, { host: config.host, port: config.port, tls, log, authAttemptsPerMinute: config.authAttemptsPerMinute });
    this.#app = app;
    await app.listen({ host: config.host, port: config.port });
    const port = this.address?.port ?? config.port;
    const shown = config.host === '0.0.0.0' || config.host === '::' ? lanAddress() : config.host;
    this.#url = `${tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
    log.info({ url: this.#url, tls: tls !== undefined, fingerprint: this.fingerprint }, 'LAN API and phone UI listening');
    if (!this.#d.context.people.hasOwner()) {
      this.pairingCode = this.#d.context.people.issueCode('owner', 365 * 86_400_000);
      log.warn({ pairUrl: this.pairUrl }, `not paired yet: open ${this.pairUrl} on your phone, or enter the code ${this.pairingCode}`);
    }
    if (config.mdns) {
      this.#advertiser = await (this.#d.advertiser ?? bonjourAdvertiser)();
      this.#advertiser.publish(`Trellis ${this.#d.gatewayId}`, port, { id: this.#d.gatewayId, tls: tls ? '1' : '0', path: '/' });
    }
  }

  get pairUrl(): string | undefined {
    return this.pairingCode ? `${this.#url}/#/pair?code=${this.pairingCode}` : undefined;
  }

  async stop(): Promise<void> {
    await this.#advertiser?.stop();
    this.#advertiser = undefined;
    await this.#app?.close();
    this.#app = undefined;
  }

  async #tls(): Promise<{ cert: string; key: string } | undefined> {
    const { config, dataDir } = this.#d;
    if (config.tls === 'off') return undefined;
    let cert: string;
    let key: string;
    if (config.tls === 'files') {
      cert = readFileSync(config.cert as string, 'utf8');
      key = readFileSync(config.key as string, 'utf8');
    } else {
      const certFile = join(dataDir, 'lan-cert.pem');
      const keyFile = join(dataDir, 'lan-key.pem');
      if (!existsSync(certFile) || !existsSync(keyFile)) {
        const { generate } = await import('selfsigned');
        const pems = await generate([{ name: 'commonName', value: `trellis-${this.#d.gatewayId}` }], { keyType: 'ec', curve: 'P-256', days: 3650 } as never);
        writeFileSync(keyFile, pems.private, { mode: 0o600 });
        chmodSync(keyFile, 0o600);
        writeFileSync(certFile, pems.cert);
      }
      cert = readFileSync(certFile, 'utf8');
      key = readFileSync(keyFile, 'utf8');
    }
    this.fingerprint = new X509Certificate(cert).fingerprint256;
    return { cert, key };
  }
}

/** The address a phone on the LAN would use: the first non-internal IPv4 (only printed, never contacted). */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
