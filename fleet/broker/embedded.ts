import { createServer as createTcpServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { parseTopic, REQUEST_KINDS } from '../../protocol/index.ts';
import type { FleetDb, Queryable } from '../db/fleetDb.ts';
import { GroupCommit } from '../ingest/groupCommit.ts';
import type { IngestCounters } from '../ingest/worker.ts';
import type { Publisher } from '../jobs/dispatch.ts';
import { checkPassword, hashPassword } from '../passwords.ts';

export interface EmbeddedBrokerOptions {
  readonly db: FleetDb;
  readonly provider: string;
  readonly host: string;
  readonly port: number;
  /** PEM; without it the broker speaks plain MQTT (loopback only: the fleet refuses otherwise) */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  readonly now?: () => number;
  readonly onFailure?: (err: Error, topic: string) => void;
  /** told of each message whose commit succeeded (stored, or refused as invalid) */
  readonly onCommitted?: () => void;
}

/** Gateways' accounts on the embedded broker: one per gateway id, argon2id passwords. */
export async function addBrokerAccount(db: Queryable, gatewayId: string, password: string, now: number): Promise<boolean> {
  const rows = await db.query(
    'INSERT INTO broker_accounts (gateway_id, password_hash, created_at) VALUES ($1, $2, $3) ON CONFLICT (gateway_id) DO UPDATE SET password_hash = excluded.password_hash RETURNING 1',
    [gatewayId, await hashPassword(password), now],
  );
  return rows.length > 0;
}

/**
 * The broker a small provider runs inside trellis-fleet (aedes, MQTT 3.1.1, TLS). Its gateways log
 * in with their own accounts; each may publish only its own status and its records in this
 * provider's stream, and subscribe only to the requests addressed to it. A record is stored before
 * the broker acknowledges it: the PUBACK goes out after `authorizePublish` returns, and that hook
 * commits the record (in a group commit with the other gateways' records of the moment), so an acknowledged record is in the database even if the process dies the
 * next instant; a failed commit drops the connection unacknowledged and the gateway sends again.
 */
export class EmbeddedBroker implements Publisher {
  readonly #o: EmbeddedBrokerOptions;
  readonly #gateways = new WeakMap<Client, string>();
  readonly #counters: IngestCounters = { stored: 0, invalid: 0, failed: 0 };
  readonly #commit: GroupCommit;
  #aedes: Aedes | undefined;
  #server: Server | undefined;

  constructor(options: EmbeddedBrokerOptions) {
    this.#o = options;
    this.#commit = new GroupCommit({ db: options.db, now: options.now });
  }

  get counters(): Readonly<IngestCounters> {
    return { ...this.#counters };
  }

  get connected(): boolean {
    return this.#aedes !== undefined;
  }

  get port(): number {
    const a = this.#server?.address();
    return typeof a === 'object' && a ? a.port : this.#o.port;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      maxClientsIdLength: 128,
      heartbeatInterval: 60_000,
      authenticate: (client, username, password, done) => {
        this.#authenticate(username, password).then(
          (gatewayId) => {
            if (gatewayId) this.#gateways.set(client, gatewayId);
            done(gatewayId ? null : (Object.assign(new Error('bad user name or password'), { returnCode: 4 }) as AuthenticateError), gatewayId !== undefined);
          },
          (err: Error) => done(Object.assign(err, { returnCode: 3 }) as AuthenticateError, false),
        );
      },
      authorizePublish: (client, packet, done) => this.#publish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => done(null, this.#subscribe(client, sub)),
    });
    this.#aedes = aedes;
    const tls = this.#o.tls;
    const server = tls ? createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, aedes.handle) : createTcpServer(aedes.handle);
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => resolve());
    });
  }

  /** A request to a gateway, QoS 1 (delivered now, or queued in the gateway's session while it reconnects). */
  publish(topic: string, payload: string): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes) return Promise.reject(new Error('the embedded broker is not running'));
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async stop(): Promise<void> {
    const aedes = this.#aedes;
    this.#aedes = undefined;
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }

  async #authenticate(username: string | undefined, password: Buffer | undefined): Promise<string | undefined> {
    const [row] = username
      ? await this.#o.db.query<{ password_hash: string }>('SELECT password_hash FROM broker_accounts WHERE gateway_id = $1', [username])
      : [];
    return (await checkPassword(row?.password_hash, password ?? Buffer.alloc(0))) ? username : undefined;
  }

  #publish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    const gatewayId = client ? this.#gateways.get(client) : undefined;
    const t = parseTopic(packet.topic);
    const own = t !== undefined && gatewayId !== undefined && t.gatewayId === gatewayId;
    const allowed = own && (t.kind === 'status' || (t.provider === this.#o.provider && !(REQUEST_KINDS as readonly string[]).includes(t.kind)));
    if (!allowed) return done(new Error(`${gatewayId ?? 'an unknown client'} may not publish to ${packet.topic.slice(0, 200)}`));
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    // many gateways' records share a commit (each gateway's own are in order: aedes waits for this hook)
    this.#commit.add({ topic: packet.topic, payload }).then(
      (outcome) => {
        if (outcome.stored) this.#counters.stored++;
        else this.#counters.invalid++;
        this.#o.onCommitted?.();
        done(null);
      },
      (err: Error) => {
        this.#counters.failed++;
        this.#o.onFailure?.(err, packet.topic);
        done(err); // aedes closes the connection without the PUBACK: the gateway sends it again
      },
    );
  }

  #subscribe(client: Client, sub: Subscription): Subscription | null {
    const gatewayId = this.#gateways.get(client);
    if (!gatewayId) return null;
    const base = `trellis/v1/${gatewayId}/p/`;
    const [provider, kind, id, ...rest] = sub.topic.startsWith(base) ? sub.topic.slice(base.length).split('/') : [];
    const mine =
      (provider === '+' || provider === this.#o.provider) && (REQUEST_KINDS as readonly string[]).includes(kind ?? '') && id !== undefined && rest.length === 0;
    return mine ? sub : null;
  }
}
