import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { endProcess } from '../endProcess.ts';
import { makeCertificates, type Certificates } from './certificates.ts';

export interface CloudBrokerOptions {
  readonly dir: string;
  /** username -> password on the TLS + password listener */
  readonly users: Record<string, string>;
  /** common names to issue client certificates for (the mTLS listener uses the CN as username) */
  readonly certificateClients: readonly string[];
  /** mosquitto ACL file text; default: everyone may do everything */
  readonly acl?: string;
  readonly passwordPort: number;
  readonly certificatePort: number;
}

/**
 * A provider's cloud broker for tests and benchmarks: Debian mosquitto 2 on 127.0.0.1 with TLS, one
 * listener for username/password and one for client certificates, persistence on (so a subscriber's
 * queued messages survive `restart()`, as on a production broker). Needs the `mosquitto` and
 * `openssl` packages.
 */
export class CloudBroker {
  readonly certs: Certificates;
  readonly #o: CloudBrokerOptions;
  readonly #config: string;
  #process: ChildProcess | undefined;
  #log = '';

  constructor(options: CloudBrokerOptions) {
    this.#o = options;
    const dir = options.dir;
    mkdirSync(join(dir, 'persist'), { recursive: true });
    this.certs = makeCertificates(dir, options.certificateClients);
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, '');
    for (const [user, password] of Object.entries(options.users)) execFileSync('mosquitto_passwd', ['-b', passwd, user, password], { stdio: 'pipe' });
    const acl = join(dir, 'acl');
    writeFileSync(acl, options.acl ?? 'pattern readwrite #\n');
    const tls = [`cafile ${this.certs.ca}`, `certfile ${this.certs.serverCert}`, `keyfile ${this.certs.serverKey}`, 'tls_version tlsv1.2'];
    this.#config = join(dir, 'mosquitto.conf');
    writeFileSync(
      this.#config,
      [
        `user ${userInfo().username}`, // do not drop to the mosquitto user: it could not read this temp dir
        'per_listener_settings true',
        'persistence true',
        `persistence_location ${join(dir, 'persist')}/`,
        'max_queued_messages 1000000',
        'max_inflight_messages 0',
        'log_dest stdout',
        `listener ${options.passwordPort} 127.0.0.1`,
        ...tls,
        'allow_anonymous false',
        `password_file ${passwd}`,
        `acl_file ${acl}`,
        `listener ${options.certificatePort} 127.0.0.1`,
        ...tls,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous false',
        `acl_file ${acl}`,
        '',
      ].join('\n'),
    );
  }

  get passwordUrl(): string {
    return `mqtts://127.0.0.1:${this.#o.passwordPort}`;
  }

  get certificateUrl(): string {
    return `mqtts://127.0.0.1:${this.#o.certificatePort}`;
  }

  get log(): string {
    return this.#log;
  }

  /** mosquitto's PID while it runs (for the benchmarks' CPU accounting) */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  async start(): Promise<void> {
    if (this.#process) return;
    const child = spawn('mosquitto', ['-c', this.#config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    child.stdout?.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.#log += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`mosquitto is needed (apt-get install mosquitto): ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}:\n${this.#log}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!((await listening(this.#o.passwordPort)) && (await listening(this.#o.certificatePort)))) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen:\n${this.#log}`);
      await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
    }
  }

  /** Stops the broker (SIGTERM: it saves its persistence file, like a planned restart). */
  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    await endProcess(child);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
