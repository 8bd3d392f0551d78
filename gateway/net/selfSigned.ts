import type { Logger } from '../log.ts';
import { selfSignedMaterial, type TlsMaterial } from './certificates.ts';
import type { GatewayNames } from './names.ts';
import type { GatewayBus } from '../core/events.ts';

const CHECK_EVERY_MS = 12 * 3_600_000;

/**
 * The gateway's self-signed TLS material, shared by the LAN API and the MQTT TLS listener: made on
 * first use, checked every 12 hours (and at start) and renewed before it ends or when the gateway's
 * names or addresses change; listeners swap to a renewed certificate without a restart.
 */
export class SelfSignedTls {
  readonly #dataDir: string;
  readonly #names: () => GatewayNames;
  readonly #log: Logger;
  #current: Promise<TlsMaterial> | undefined;
  #timer: NodeJS.Timeout | undefined;

  readonly #bus: Pick<GatewayBus, 'emit'>;

  /** A renewal is announced on `bus` (`tlsRenewed`). */
  constructor(dataDir: string, names: () => GatewayNames, log: Logger, bus: Pick<GatewayBus, 'emit'>) {
    this.#bus = bus;
    this.#dataDir = dataDir;
    this.#names = names;
    this.#log = log;
  }

  material(): Promise<TlsMaterial> {
    this.#current ??= this.#ensure();
    return this.#current;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Renews now if needed, and hands a renewed certificate to the listeners. */
  async check(now = Date.now()): Promise<void> {
    const before = await this.material();
    const after = await this.#ensure(now).catch((err: Error) => {
      this.#log.error({ err }, 'renewing the TLS certificate failed; the current one stays');
      return before;
    });
    if (after.fingerprint === before.fingerprint) return;
    this.#current = Promise.resolve(after);
    this.#bus.emit('tlsRenewed', after);
  }

  async #ensure(now = Date.now()): Promise<TlsMaterial> {
    const { material, renewed } = await selfSignedMaterial(this.#dataDir, this.#names(), now);
    if (renewed)
      this.#log.info(
        { reason: renewed, fingerprint: material.fingerprint, caFingerprint: material.caFingerprint, notAfter: material.notAfter },
        'TLS certificate issued',
      );
    return material;
  }
}
