import { PasswordHasher, Argon2Gate } from '../auth/passwordHasher.ts';
import { lanUrl } from '../lan/service.ts';
import { PAIRING_CODE_TTL_MS, People, type Role } from '../store/people.ts';
import { AuditLog } from '../store/audit.ts';
import { databaseFile, openDb, storeOptions } from '../store/db.ts';
import { resolveConfig } from './resolveConfig.ts';
import { pairingText } from './start.ts';

/**
 * `trellis pair`: a fresh one-time pairing code (valid 24 hours) for a new phone, printed on this
 * terminal only. Whoever can run it has the gateway's data directory, so it may make an owner (a
 * replaced or lost phone); `--role member|guest` makes an invite instead. Works while the gateway runs.
 */
export async function runPair(opts: { config?: string; role?: string }): Promise<void> {
  const { config, source } = resolveConfig(opts.config);
  const role: Role = opts.role === 'member' || opts.role === 'guest' ? opts.role : 'owner';
  const db = openDb(databaseFile(config.dataDir), storeOptions(config.store));
  let code: string;
  try {
    // An owner code replaces the previous unredeemed one (`issueCode` without a creator).
    code = new People(db, new PasswordHasher(new Argon2Gate())).issueCode(role, PAIRING_CODE_TTL_MS, role === 'owner' ? undefined : 0);
    new AuditLog(db).append('owner:cli', 'cli.pair', null, { role, config: source ?? null });
  } finally {
    db.close();
  }
  const url = `${lanUrl(config.lan, config.lan.port)}/#/pair?code=${code}`;
  process.stdout.write(`${(await pairingText(url, code)).replace('Pair your phone', `Pair a phone as ${role}`)}\n`);
}
