import { existsSync } from 'node:fs';
import { readBoundedText } from '../boundedRead.ts';
import { checkRulesText, formatProblems } from '../../rules/load.ts';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { databaseFile, openDb, storeOptions } from '../store/db.ts';
import { DeviceRegistry } from '../store/registry.ts';
import { resolveConfig } from './resolveConfig.ts';

/**
 * `trellis check-rules FILE`: the same checks the gateway runs before activating rules, against the
 * devices in the gateway's store. Prints every problem as file:line:column and exits 1 if any.
 */
export function runCheckRules(file: string, options: { config?: string }): void {
  const { config } = resolveConfig(options.config);
  const read = readBoundedText(file);
  if (!read.ok) throw new TrellisError(ErrorCodes.rules, `${file}: the rule file ${read.message}`);
  const text = read.text;
  const dbFile = databaseFile(config.dataDir);
  const db = existsSync(dbFile) ? openDb(dbFile, storeOptions(config.store)) : undefined;
  try {
    const registry = db ? new DeviceRegistry(db) : undefined;
    registry?.load();
    const result = checkRulesText(text, file, {
      catalog: (id) => registry?.get(id),
      timezone: config.timezone,
      tariffs: config.tariffs,
      cascadeLimit: config.rules.cascadeLimit,
    });
    if (!result.ok) {
      const hint = db ? '' : `\n(no device database at ${dbFile}: every device counts as unknown; pass --config)`;
      throw new TrellisError(ErrorCodes.rules, `${formatProblems(result.problems)}${hint}`);
    }
    process.stdout.write(`${file}: OK, ${result.count} rule${result.count === 1 ? '' : 's'}\n`);
    for (const id of result.unlocking) process.stdout.write(`${file}: note: rule "${id}" may unlock a lock or open an entrance (allowUnlock: true)\n`);
  } finally {
    db?.close();
  }
}
