import { existsSync } from 'node:fs';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { ClientIdStore } from '../store/clientIds.ts';
import { CredentialStore, defaultTopics } from '../store/credentials.ts';
import { databaseFile, openDb, storeOptions, type Db } from '../store/db.ts';
import { listDevices } from '../store/deviceQueries.ts';
import { formatDevices } from './format.ts';
import { resolveConfig } from './resolveConfig.ts';

function openStore(configFile: string | undefined, create: boolean): { db: Db; brokerHint: string } {
  const { config } = resolveConfig(configFile);
  const file = databaseFile(config.dataDir);
  if (!create && !existsSync(file)) {
    throw new TrellisError(ErrorCodes.store, `no database at ${file} yet: start the gateway once (trellis start) or check --config`);
  }
  const db = openDb(file, storeOptions(config.store));
  const host = config.mqtt.host === '0.0.0.0' || config.mqtt.host === '::' ? '<this gateway address>' : config.mqtt.host;
  return { db, brokerHint: `mqtt://${host}:${config.mqtt.port}` };
}

/** `trellis device add NAME`: creates a credential and prints its password once. */
export async function runDeviceAdd(name: string, options: { config?: string; topic?: string[]; rotate?: boolean; clientId?: string[] }): Promise<void> {
  const { db, brokerHint } = openStore(options.config, true);
  try {
    const store = new CredentialStore(db);
    const topics = options.topic && options.topic.length > 0 ? options.topic : defaultTopics(name);
    const password = options.rotate ? await store.rotate(name, topics) : await store.create(name, topics);
    const clientIds = new ClientIdStore(db, (n) => store.get(n) !== undefined);
    if (options.clientId && options.clientId.length > 0) clientIds.reserve(name, options.clientId);
    const reserved = clientIds.reserved(name);
    process.stdout.write(
      [
        `Credential for device "${name}" ${options.rotate ? 'rotated' : 'created'}.`,
        `  broker:    ${brokerHint}`,
        `  username:  ${name}`,
        `  password:  ${password}`,
        `  topics:    ${topics.join(', ')} (it may publish and subscribe only there, plus its Home Assistant discovery configs)`,
        `  client id: ${reserved.length > 0 ? `${reserved.join(', ')} (only these, and nobody else may use them)` : 'any; each one it uses becomes its own (no other device may take it over)'}`,
        '',
        'The password is shown only now; Trellis keeps only its hash. Lost it? Run again with --rotate.',
        '',
      ].join('\n'),
    );
  } finally {
    db.close();
  }
}

/** `trellis device list`: devices, online/offline, each attribute's last value and time. */
export function runDeviceList(options: { config?: string; json?: boolean }): void {
  const { db } = openStore(options.config, false);
  try {
    const devices = listDevices(db);
    const used = new Set(devices.map((d) => d.owner));
    const pending = new CredentialStore(db)
      .list()
      .map((c) => c.username)
      .filter((u) => !used.has(u));
    if (options.json) process.stdout.write(`${JSON.stringify({ devices, unusedCredentials: pending }, null, 2)}\n`);
    else process.stdout.write(`${formatDevices(devices, pending, Date.now())}\n`);
  } finally {
    db.close();
  }
}
