import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { buildFleetApi, type FleetRoute } from './api/server.ts';
import type { FleetApp } from './api/context.ts';
import { EmbeddedBroker } from './broker/embedded.ts';
import { brokerTls } from './brokerTls.ts';
import type { FleetConfig } from './config.ts';
import { type FleetDb, pgliteDb, postgresDb } from './db/fleetDb.ts';
import { migrate } from './db/migrations.ts';
import { FleetProcess, type IngestPath } from './fleetProcess.ts';
import { IngestHealth } from './ingest/health.ts';
import { IngestWorker } from './ingest/worker.ts';
import { People, PeopleError } from './people.ts';
import { FLEET_VERSION } from './version.ts';

export interface RunningFleet {
  readonly db: FleetDb;
  readonly process: FleetProcess;
  readonly api: FleetApp;
  /** the route table with each route's declared access (the auth tests walk it) */
  readonly routes: () => FleetRoute[];
  /** http://host:port of the API */
  readonly apiUrl: string;
  /** the embedded broker, when no external one is configured */
  readonly broker: EmbeddedBroker | undefined;
  /** mqtts://host:port the gateways connect to (embedded broker), and the certificate they trust */
  readonly brokerUrl: string | undefined;
  readonly brokerCa: string | undefined;
  /** the first admin's password, made on a first start with no users (printed once) */
  readonly firstAdminPassword: string | undefined;
  stop(): Promise<void>;
}

/**
 * Opens the configured database: a PostgreSQL server, or PGlite in dataDir. PGlite is one process's
 * database: a lock file keeps a second one (a CLI command while the service runs) out.
 */
export async function openFleetDb(config: FleetConfig): Promise<FleetDb> {
  if (config.database) return postgresDb(config.database.url);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const release = takeLock(join(config.dataDir, 'pglite.lock'));
  try {
    const db = await pgliteDb(join(config.dataDir, 'pglite'));
    return { ...db, close: () => db.close().finally(release) };
  } catch (err) {
    release();
    throw err;
  }
}

function takeLock(file: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new Error(`the fleet database in ${dirname(file)} is open in process ${pid} (trellis-fleet start?): stop it, or use the API`);
      rmSync(file, { force: true }); // left by a process that died
    }
  }
  throw new Error(`cannot take ${file}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The fleet's composition root: database (migrated), ingest (the embedded broker, or a worker on
 * the provider's broker), the periodic jobs, the API. Stops in reverse order.
 */
export async function startFleet(config: FleetConfig, log: Logger): Promise<RunningFleet> {
  const db = await openFleetDb(config);
  const stops: Array<() => Promise<unknown>> = [() => db.close()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: Error) => log.error({ err }, 'stopping trellis-fleet'));
  };
  try {
    await migrate(db);
    const people = new People(db);
    let firstAdminPassword: string | undefined;
    if ((await people.count()) === 0) {
      const password = randomBytes(12).toString('base64url');
      // another process starting at the same moment may have made it: then that one prints it
      firstAdminPassword = await people.add('admin', 'admin', password).then(
        () => password,
        (err: Error) => {
          if (err instanceof PeopleError) return undefined;
          throw err;
        },
      );
    }
    const health = new IngestHealth((failing) =>
      failing
        ? log.error(
            { sqlState: failing.sqlState },
            'ingest is failing: records cannot be committed (is the database full?); they wait unacknowledged on the broker',
          )
        : log.warn('ingest commits again'),
    );
    const onCommitted = () => health.committed();
    const onFailure = (err: Error, topic: string) => {
      health.failed(err, Date.now());
      log.error({ err, topic }, 'a record could not be committed; not acknowledged, the broker sends it again');
    };
    let broker: EmbeddedBroker | undefined;
    let brokerCa: string | undefined;
    let ingest: IngestPath;
    if ('embedded' in config.broker) {
      const e = config.broker.embedded;
      const tls = e.tls ? await brokerTls(join(config.dataDir, 'broker-tls'), [e.host]) : undefined;
      brokerCa = tls?.certFile;
      broker = new EmbeddedBroker({ db, provider: config.provider, host: e.host, port: e.port, tls, onFailure, onCommitted });
      ingest = broker;
    } else {
      const b = config.broker;
      ingest = new IngestWorker({
        db,
        url: b.url,
        provider: config.provider,
        group: config.worker.group,
        clientId: config.worker.id ?? `${config.provider}-fleet-${hostname()}-${process.pid}`,
        mqtt: {
          username: b.username ?? config.provider,
          password: b.passwordFile ? readFileSync(b.passwordFile, 'utf8').trim() : undefined,
          ca: b.ca ? readFileSync(b.ca) : undefined,
          protocolVersion: b.protocolVersion,
        },
        onFailure,
        onCommitted,
      });
    }
    const fleet = new FleetProcess({
      db,
      ingest,
      config,
      onJobFailure: (job, err) => log.error({ err, job }, 'a periodic job failed; it runs again next round'),
    });
    await fleet.start();
    stops.push(() => fleet.stop());
    const { app, routes } = await buildFleetApi(
      { db, people, config, version: FLEET_VERSION, now: Date.now, ingestConnected: () => ingest.connected, ingestFailing: () => health.failing },
      (err, url) => log.error({ err, url }, 'API request failed'),
    );
    await app.listen({ host: config.api.host, port: config.api.port });
    stops.push(() => app.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.api.port;
    const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    const brokerUrl = broker && 'embedded' in config.broker ? `${config.broker.embedded.tls ? 'mqtts' : 'mqtt'}://${host}:${broker.port}` : undefined;
    return { db, process: fleet, api: app, routes, apiUrl: `http://${host}:${port}`, broker, brokerUrl, brokerCa, firstAdminPassword, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
