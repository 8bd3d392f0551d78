import type { AuthAnswer } from '../../drivers/mqtt/broker.ts';
import type { CredentialStore } from '../store/credentials.ts';
import { HasherBusyError } from './passwordHasher.ts';
import type { AuthThrottle } from './throttle.ts';

/**
 * MQTT CONNECT authentication with flood control. A password that verified before (a device
 * reconnecting) is recognised by a hash compare and never waits. Any other attempt is throttled per
 * source address and per user name (slowed, then refused), and checked with argon2 through the shared
 * gate; a full gate or a refused source answers CONNACK 3 ("server unavailable": try later).
 */
export class DeviceAuth {
  readonly #credentials: CredentialStore;
  readonly #throttle: AuthThrottle;

  constructor(credentials: CredentialStore, throttle: AuthThrottle) {
    this.#credentials = credentials;
    this.#throttle = throttle;
  }

  async authenticate(username: string, password: string, source: string): Promise<AuthAnswer> {
    const known = this.#credentials.recall(username, password);
    if (known) return { ok: true, name: known.username, topics: known.topics };
    try {
      const attempt = await this.#throttle.guard(source, username, () => this.#credentials.verify(username, password));
      if (attempt.refused) return { ok: false, returnCode: 3, reason: 'too many failed attempts; try again later' };
      const credential = attempt.result;
      return credential
        ? { ok: true, name: credential.username, topics: credential.topics }
        : { ok: false, returnCode: 4, reason: 'bad user name or password' };
    } catch (err) {
      if (err instanceof HasherBusyError) return { ok: false, returnCode: 3, reason: err.message };
      throw err;
    }
  }
}
