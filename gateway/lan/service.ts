import type { Server as TlsServer } from 'node:tls';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../log.ts';
import { fileMaterial, type TlsMaterial } from '../net/certificates.ts';
import { HostCheck } from '../net/names.ts';
import type { SelfSignedTls } from '../net/selfSigned.ts';
import type { App, LanContext } from './context.ts';
import { PAIRING_CODE_TTL_MS } from '../store/people.ts';
import { buildLanServer, type RouteEntry } from './server.ts';
import type { GatewayBus } from '../core/events.ts';

export interface LanConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: 'off' | 'self-signed' | 'files';
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly mdns: boolean;
  readonly authAttemptsPerMinute: number;
  readonly sessionRecheckS: number;
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
  /** names besides the gateway's own that it is reached by (`hostnames`) */
  readonly hostnames: readonly string[];
  /** the gateway's self-signed TLS material (shared with the MQTT TLS listener) */
  readonly selfSigned: SelfSignedTls | undefined;
  /** carries certificate renewals (`tlsRenewed`) */
  readonly bus: GatewayBus;
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
  #routes: (() => RouteEntry[]) | undefined;
  #advertiser: Advertiser | undefined;
  #url = '';
  /** the first-start pairing code, for the terminal only (never logged); `trellis pair` prints a fresh one */
  pairingCode: string | undefined;
  /** sha256 fingerprint of the HTTPS certificate, when TLS is on */
  fingerprint: string | undefined;
  /** sha256 fingerprint of the gateway CA that issued it (self-signed mode) */
  caFingerprint: string | undefined;

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

  /** Every route with its declared access (the security suite's auth matrix is generated from it). */
  routes(): RouteEntry[] {
    return this.#routes?.() ?? [];
  }

  async start(): Promise<void> {
    const { config, log } = this.#d;
    const tls = await this.#tls();
    const hosts = new HostCheck({ gatewayId: this.#d.gatewayId, extra: this.#d.hostnames, boundHosts: [config.host] });
    const { app, routes } = await buildLanServer(
      { ...this.#d.context, publicUrl: () => this.#url },
      {
        host: config.host,
        port: config.port,
        tls,
        log,
        authAttemptsPerMinute: config.authAttemptsPerMinute,
        sessionRecheckMs: config.sessionRecheckS * 1000,
        hosts,
        caCert: tls?.ca,
      },
    );
    this.#app = app;
    this.#routes = routes;
    await app.listen({ host: config.host, port: config.port });
    if (tls && config.tls === 'self-signed') {
      this.#d.bus.on(this, 'tlsRenewed', (m) => {
        (app.server as unknown as TlsServer).setSecureContext({ cert: m.cert, key: m.key });
        this.fingerprint = m.fingerprint;
        log.info({ fingerprint: m.fingerprint }, 'LAN API serves the renewed certificate');
      });
    }
    const port = this.address?.port ?? config.port;
    this.#url = lanUrl(config, port);
    log.info({ url: this.#url, tls: tls !== undefined, fingerprint: this.fingerprint }, 'LAN API and phone UI listening');
    if (!this.#d.context.people.hasOwner()) {
      // The code goes to the terminal (see cli/start.ts), never into the log: logs are kept and shipped.
      this.pairingCode = this.#d.context.people.issueCode('owner', PAIRING_CODE_TTL_MS);
      log.warn({ url: this.#url }, 'not paired yet: the pairing code is on the terminal that started the gateway, or run `trellis pair` for a new one');
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
    this.#d.bus.off(this);
    await this.#advertiser?.stop();
    this.#advertiser = undefined;
    await this.#app?.close();
    this.#app = undefined;
  }

  async #tls(): Promise<TlsMaterial | undefined> {
    const { config } = this.#d;
    if (config.tls === 'off') return undefined;
    const material =
      config.tls === 'files' ? fileMaterial(config.cert as string, config.key as string) : await (this.#d.selfSigned as SelfSignedTls).material();
    this.fingerprint = material.fingerprint;
    this.caFingerprint = material.caFingerprint;
    return material;
  }
}

/** Where a phone reaches the LAN API (`trellis pair` prints it too). */
export function lanUrl(config: Pick<LanConfig, 'host' | 'tls'>, port: number): string {
  const shown = config.host === '0.0.0.0' || config.host === '::' ? lanAddress() : config.host;
  return `${config.tls !== 'off' ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** The address a phone on the LAN would use: the first non-internal IPv4 (only printed, never contacted). */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
