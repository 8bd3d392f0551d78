import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { DriverError, DriverErrorCodes } from '../errors.ts';
import { AckFlows } from './ackFlows.ts';
import { deliverAtGrantedQos } from './aedesFixes.ts';
import { assertAedesInternals, deliveryOf, parserOf } from './aedesInternals.ts';
import { guardSocket } from './packetGuard.ts';
import { malformation, type DecodedPacket } from './packetRules.ts';
import { filterCovers, parseDiscoveryTopic, parseTasmotaDiscoveryTopic, topicMatches } from './topics.ts';

/** Who is on the other end of a connection, once authenticated. */
export interface BrokerIdentity {
  /** The credential's username, or the client id of an anonymous device. */
  readonly name: string;
  readonly clientId: string;
  readonly anonymous: boolean;
  /** Topic filters this identity owns: it may publish and subscribe only there. */
  readonly topics: readonly string[];
}

export interface BrokerOptions {
  readonly host: string;
  /** the plain TCP listener's port (when `plain` is on) */
  readonly port: number;
  /** listen on plain TCP too; off leaves only TLS */
  readonly plain?: boolean;
  /** MQTT over TLS: its port, certificate chain and key (PEM) */
  readonly tls?: { readonly port: number; readonly cert: string; readonly key: string } | undefined;
  readonly allowAnonymous: boolean;
  readonly maxPacketBytes: number;
  readonly maxTopicLevels: number;
  readonly maxInflight: number;
  /** Topics any device may subscribe to (read-only), e.g. Home Assistant's birth topic. */
  readonly publicTopics: readonly string[];
}

export type Verdict = 'accept' | 'refuse';

export type ViolationKind = 'publish-acl' | 'subscribe-acl' | 'packet-too-large' | 'client-id-taken' | 'auth' | 'protocol';

/** What checking a CONNECT's user name and password found. */
export type AuthAnswer =
  | { readonly ok: true; readonly name: string; readonly topics: readonly string[] }
  /** 4: bad user name or password; 3: not now (too many failures from there, or too many checks waiting) */
  | { readonly ok: false; readonly returnCode: 3 | 4; readonly reason: string };

export interface BrokerHooks {
  /** Checks a username and password from `source` (the peer's address). */
  authenticate(username: string, password: string, source: string): Promise<AuthAnswer>;
  /**
   * Whether `clientId` may be used by `name` (a credential, or an anonymous device when `anonymous`):
   * client ids belong to credentials, so another credential cannot take one over, even while its
   * owner is offline. Recording the use is the hook's business.
   */
  claimClientId?(clientId: string, name: string, anonymous: boolean): boolean;
  /**
   * Every PUBLISH the ACL allows, before it is acknowledged or relayed. `done('accept')` lets it through
   * (for QoS 1 the PUBACK is written only then, so call it after the data is committed);
   * `done('refuse')` drops it. Called with `identity` undefined for broker-originated wills.
   */
  onPublish(identity: BrokerIdentity | undefined, packet: PublishPacket, done: (verdict: Verdict) => void): void;
  onClientReady?(identity: BrokerIdentity): void;
  onClientGone?(identity: BrokerIdentity): void;
  onViolation?(identity: BrokerIdentity | undefined, kind: ViolationKind, detail: string): void;
}

export interface BrokerCounters {
  connections: number;
  connected: number;
  authFailures: number;
  aclRefusals: number;
  oversize: number;
  /** packets that break an MQTT 3.1.1 rule mqtt-packet accepts (their connection was closed) */
  malformed: number;
  clientErrors: number;
  published: number;
}

/** A broker's counters before it ran. */
export function zeroBrokerCounters(): BrokerCounters {
  return { connections: 0, connected: 0, authFailures: 0, aclRefusals: 0, oversize: 0, malformed: 0, clientErrors: 0, published: 0 };
}

function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ host, port: (server.address() as AddressInfo).port });
    });
  });
}

/** Refused publishes are re-routed here: a `$` topic no client may subscribe to, so nobody receives them. */
const REFUSED_TOPIC = '$trellis/refused';

const CONNACK = { identifierRejected: 2, badCredentials: 4, notAuthorized: 5 } as const;

function authError(returnCode: number, message: string): AuthenticateError {
  const err = new Error(message) as AuthenticateError;
  err.returnCode = returnCode;
  return err;
}

/**
 * The embedded MQTT 3.1.1 broker LAN devices connect to: aedes over TCP, with per-device credentials,
 * a per-credential topic ACL, packet-size and topic-depth limits, and a hook that sees every publish
 * before it is acknowledged (which is how a QoS 1 reading is committed before its PUBACK).
 *
 * A publish outside the device's own topics is acknowledged and dropped (MQTT 3.1.1 has no negative
 * PUBACK; [MQTT-3.3.5-2] allows a positive acknowledgement), counted and reported. A subscribe outside
 * them gets return code 0x80 [MQTT-3.9.3].
 */
export class EmbeddedBroker {
  readonly #options: BrokerOptions;
  readonly #hooks: BrokerHooks;
  readonly #identities = new WeakMap<Client, BrokerIdentity>();
  readonly #emptyIdPersistent = new WeakSet<Client>();
  readonly #sockets = new Set<Socket>();
  readonly #counters: BrokerCounters = zeroBrokerCounters();
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #tlsServer: TlsServer | undefined;
  #address: { host: string; port: number } | undefined;
  #tlsAddress: { host: string; port: number } | undefined;

  constructor(options: BrokerOptions, hooks: BrokerHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** the plain listener's address (undefined when `plain` is off) */
  get address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  get tlsAddress(): { host: string; port: number } | undefined {
    return this.#tlsAddress;
  }

  /** Serves a renewed certificate to new TLS connections (existing ones keep theirs). */
  updateTls(material: { cert: string; key: string }): void {
    this.#tlsServer?.setSecureContext({ cert: material.cert, key: material.key });
  }

  counters(): Readonly<BrokerCounters> {
    return { ...this.#counters };
  }

  async start(): Promise<void> {
    if (this.#aedes) return;
    // mqtt-packet would fill a cache of 65,536 two-byte Buffers (6.3 MB of heap, a sixth of the
    // gateway's) on its first write, to save allocating the 2 bytes of a packet id or topic length:
    // a broker that mostly writes PUBACKs does not need it (its documented switch, set before any write).
    (mqttPacket.writeToStream as { cacheNumbers?: boolean }).cacheNumbers = false;
    const options = this.#options;
    const aedes = await Aedes.createBroker({
      maxTopicLevels: options.maxTopicLevels,
      maxInflightInbound: options.maxInflight,
      queueLimit: options.maxInflight,
      maxClientsIdLength: 65535,
      drainTimeout: 30_000,
      heartbeatInterval: 60_000,
      preConnect: (client, packet, done) => {
        // [MQTT-3.1.3-8]: a zero-byte client id with CleanSession 0 must get CONNACK 0x02. aedes would
        // invent an id instead, so remember the case and refuse it in authenticate.
        if (packet.clientId === '' && packet.clean === false) this.#emptyIdPersistent.add(client);
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        this.#authenticate(client, username, password).then(
          (identity) => {
            this.#identities.set(client, identity);
            done(null, true);
          },
          (err: AuthenticateError) => {
            this.#counters.authFailures++;
            this.#hooks.onViolation?.(undefined, 'auth', `${client.id}: ${err.message}`);
            done(err, false);
          },
        );
      },
      authorizePublish: (client, packet, done) => this.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => done(null, this.#authorizeSubscribe(client, sub)),
    });
    aedes.on('clientReady', (client) => {
      this.#counters.connected++;
      const identity = this.#identities.get(client);
      if (identity) this.#hooks.onClientReady?.(identity);
    });
    aedes.on('clientDisconnect', (client) => {
      const identity = this.#identities.get(client);
      if (!identity) return;
      // The identity stays (the WeakMap lets it go with the client): the client's will may still be
      // published after this event, and it must pass the ACL as that client.
      this.#counters.connected--;
      this.#hooks.onClientGone?.(identity);
    });
    aedes.on('clientError', () => {
      this.#counters.clientErrors++;
    });
    aedes.on('connectionError', () => {
      this.#counters.clientErrors++;
    });
    this.#aedes = aedes;
    try {
      assertAedesInternals(aedes);
    } catch (err) {
      await this.stop();
      throw err;
    }

    const onConnection = (socket: Socket) => {
      this.#counters.connections++;
      socket.setNoDelay(true); // delayed-ACK stalls otherwise (ENVIRONMENT.md)
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      const refuse = (reason: string) => {
        this.#counters.malformed++;
        this.#hooks.onViolation?.(undefined, 'protocol', `${socket.remoteAddress ?? '?'}: ${reason}`);
      };
      guardSocket(socket, {
        maxPacketBytes: options.maxPacketBytes,
        onOversize: (reason) => {
          this.#counters.oversize++;
          this.#hooks.onViolation?.(undefined, 'packet-too-large', `${socket.remoteAddress ?? '?'}: ${reason}`);
        },
        onUnsupportedProtocol: refuse,
      });
      // What the broker writes tells which acknowledgement each message it sent is waiting for.
      const flows = new AckFlows();
      const write = socket.write;
      socket.write = function (this: Socket, chunk: Uint8Array | string, ...rest: unknown[]) {
        flows.sent(chunk);
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as Socket['write'];
      // aedes has no hook between parsing and handling: its client's parser is the one place to check
      // what mqtt-packet accepts but MQTT 3.1.1 forbids. Renaming the command makes aedes drop the
      // connection (its handler closes on an unknown command) without answering. No parser, or no
      // delivery functions to fix: no connection (fail closed).
      const client = aedes.handle(socket);
      const parser = parserOf(client);
      const delivery = deliveryOf(client);
      if (!parser || !delivery) {
        socket.destroy();
        return;
      }
      deliverAtGrantedQos(delivery);
      parser.prependListener('packet', (packet: DecodedPacket) => {
        const bad = malformation(packet) ?? (packet.messageId === undefined ? undefined : flows.received(packet.cmd, packet.messageId));
        if (!bad) return;
        refuse(bad);
        packet.cmd = `refused-${packet.cmd}`;
      });
    };
    try {
      if (options.plain !== false) {
        const server = createServer(onConnection);
        this.#server = server;
        this.#address = await listen(server, options.port, options.host);
      }
      if (options.tls) {
        // A TLS handshake that fails (wrong CA, plain MQTT sent to this port) only closes that socket.
        const server = createTlsServer({ cert: options.tls.cert, key: options.tls.key, handshakeTimeout: 10_000 }, onConnection);
        server.on('tlsClientError', () => this.#counters.clientErrors++);
        this.#tlsServer = server;
        this.#tlsAddress = await listen(server, options.tls.port, options.host);
      }
    } catch (err) {
      await this.stop();
      const e = err as NodeJS.ErrnoException;
      throw new DriverError(DriverErrorCodes.broker, `the MQTT broker cannot listen on ${options.host}: ${e.code ?? e.message}`, { cause: err });
    }
  }

  /** Publishes a message to devices (commands, the birth message). */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes) return Promise.reject(new Error('broker is not running'));
    const packet = {
      cmd: 'publish' as const,
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: opts.qos ?? 0,
      retain: opts.retain ?? false,
      dup: false,
    };
    return new Promise((resolve, reject) => aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    const servers = [this.#server, this.#tlsServer].filter((s): s is Server => s !== undefined);
    const aedes = this.#aedes;
    this.#server = undefined;
    this.#tlsServer = undefined;
    this.#aedes = undefined;
    this.#address = undefined;
    this.#tlsAddress = undefined;
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closed);
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    this.#sockets.clear();
    this.#counters.connected = 0;
  }

  async #authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<BrokerIdentity> {
    if (this.#emptyIdPersistent.has(client)) {
      throw authError(CONNACK.identifierRejected, 'empty client id requires clean session [MQTT-3.1.3-8]');
    }
    let identity: BrokerIdentity;
    if (username === undefined || username === '') {
      if (!this.#options.allowAnonymous) throw authError(CONNACK.notAuthorized, 'anonymous devices are not allowed');
      identity = { name: client.id, clientId: client.id, anonymous: true, topics: [`${client.id}/#`, `trellis/${client.id}/#`] };
    } else {
      const source = (client as unknown as { conn?: { remoteAddress?: string } }).conn?.remoteAddress ?? '?';
      const answer = await this.#hooks.authenticate(username, password?.toString('utf8') ?? '', source);
      if (!answer.ok) throw authError(answer.returnCode, `${answer.reason} ("${username}" from ${source})`);
      identity = { name: answer.name, clientId: client.id, anonymous: false, topics: answer.topics };
    }
    if (this.#hooks.claimClientId && !this.#hooks.claimClientId(client.id, identity.name, identity.anonymous)) {
      this.#hooks.onViolation?.(identity, 'client-id-taken', `client id "${client.id}" belongs to another device`);
      throw authError(CONNACK.identifierRejected, `client id "${client.id}" belongs to another device`);
    }
    // A client id already in use by another credential would take over (and cut off) that device's
    // session [MQTT-3.1.4-2]; only the same credential may take its own session over.
    const clients = (this.#aedes as unknown as { clients: Record<string, Client | undefined> } | undefined)?.clients;
    const existing = clients?.[client.id];
    const owner = existing ? this.#identities.get(existing) : undefined;
    if (owner && owner.name !== identity.name) {
      this.#hooks.onViolation?.(identity, 'client-id-taken', `client id "${client.id}" belongs to "${owner.name}"`);
      throw authError(CONNACK.identifierRejected, `client id "${client.id}" is in use by another device`);
    }
    return identity;
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    this.#counters.published++;
    const identity = client ? this.#identities.get(client) : undefined;
    if (client && !identity) return done(new Error('not authenticated'));
    const refuse = (why: string) => {
      this.#counters.aclRefusals++;
      this.#hooks.onViolation?.(identity, 'publish-acl', `${why}: ${packet.topic}`);
      packet.topic = REFUSED_TOPIC;
      packet.retain = false;
      done(null);
    };
    if (packet.topic.startsWith('$')) return refuse('topics starting with $ are reserved');
    // discovery configs may name any topic; the driver checks that every topic they name is the device's own
    if (identity && !this.#owns(identity, packet.topic) && !parseDiscoveryTopic(packet.topic) && !parseTasmotaDiscoveryTopic(packet.topic)) {
      return refuse(`outside the topics of "${identity.name}"`);
    }
    this.#hooks.onPublish(identity, packet, (verdict) => {
      if (verdict === 'accept') return done(null);
      packet.topic = REFUSED_TOPIC;
      packet.retain = false;
      done(null);
    });
  }

  #authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const identity = this.#identities.get(client);
    if (!identity) return null;
    const topic = sub.topic;
    const allowed = !topic.startsWith('$') && (identity.topics.some((owned) => filterCovers(owned, topic)) || this.#options.publicTopics.includes(topic));
    if (allowed) return sub;
    this.#counters.aclRefusals++;
    this.#hooks.onViolation?.(identity, 'subscribe-acl', `subscribe outside the topics of "${identity.name}": ${topic}`);
    return null;
  }

  /** ACL verdicts per identity and topic: devices publish to a handful of topics, again and again. */
  readonly #verdicts = new WeakMap<BrokerIdentity, Map<string, boolean>>();

  #owns(identity: BrokerIdentity, topic: string): boolean {
    let cache = this.#verdicts.get(identity);
    if (!cache) {
      cache = new Map();
      this.#verdicts.set(identity, cache);
    }
    let verdict = cache.get(topic);
    if (verdict === undefined) {
      verdict = identity.topics.some((owned) => topicMatches(owned, topic));
      if (cache.size >= 256) cache.clear(); // a device cycling through topics cannot grow it
      cache.set(topic, verdict);
    }
    return verdict;
  }
}
