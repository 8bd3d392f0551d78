import { readBoundedText } from '../boundedRead.ts';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parseLocatedYaml } from '../../rules/yamlLocate.ts';
import type * as z from 'zod';
import { ErrorCodes, TrellisError } from '../errors.ts';
import { configSchema, type Config, type ConfigInput } from './schema.ts';

/** A parsed, validated and frozen configuration, with where it came from. */
export interface LoadedConfig {
  readonly config: Readonly<Config>;
  /** The file it was read from, or undefined for built-in defaults. */
  readonly source: string | undefined;
}

/** Validates an in-memory config (tests, the demo). Relative dataDir resolves against `baseDir`. */
export function configFromObject(input: ConfigInput, baseDir = process.cwd(), source = '<config>'): LoadedConfig {
  const result = configSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${source}: ${describeIssue(issue)}`);
    throw new TrellisError(ErrorCodes.config, lines.join('\n'));
  }
  return { config: finish(result.data, baseDir), source: undefined };
}

/** Reads, parses and validates a YAML config file. Errors name the file, line and key path. */
export function loadConfigFile(file: string): LoadedConfig {
  const read = readBoundedText(file);
  if (!read.ok) throw new TrellisError(ErrorCodes.config, `${file}: the config file ${read.message}`);
  return parseConfigText(read.text, file);
}

/** Parses YAML text as a config; `file` is used in messages and to resolve a relative dataDir. */
export function parseConfigText(text: string, file: string): LoadedConfig {
  const name = basename(file);
  const yaml = parseLocatedYaml(text);
  if (yaml.errors.length > 0) {
    throw new TrellisError(ErrorCodes.config, yaml.errors.map((e) => `${name}:${e.line}: not valid YAML: ${e.message}`).join('\n'));
  }
  const raw: unknown = yaml.value ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TrellisError(ErrorCodes.config, `${name}:1: expected a mapping of settings at the top level`);
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      // unknown keys point at the key itself, other issues at the value
      const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      const line = yaml.locate(issue.path, key)?.line;
      return `${name}${line ? `:${line}` : ''}: ${describeIssue(issue)}`;
    });
    throw new TrellisError(ErrorCodes.config, lines.join('\n'));
  }
  return { config: finish(result.data, dirname(resolve(file))), source: resolve(file) };
}

function finish(config: Config, baseDir: string): Readonly<Config> {
  for (const name of Object.keys(config.energy.prices))
    if (!Object.hasOwn(config.tariffs, name))
      throw new TrellisError(ErrorCodes.config, `energy.prices.${name}: no tariff "${name}" (tariffs: ${Object.keys(config.tariffs).join(', ') || 'none'})`);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const cloudFile = (p: string | undefined) => (p === undefined ? undefined : at(p));
  const cloud = {
    ...config.cloud,
    passwordFile: cloudFile(config.cloud.passwordFile),
    ca: cloudFile(config.cloud.ca),
    cert: cloudFile(config.cloud.cert),
    key: cloudFile(config.cloud.key),
  };
  return deepFreeze({
    ...config,
    dataDir: at(config.dataDir),
    rules: { ...config.rules, file: at(config.rules.file) },
    serial: config.serial.map((l) => ({ ...l, path: at(l.path) })),
    cloud,
    lan: { ...config.lan, cert: cloudFile(config.lan.cert), key: cloudFile(config.lan.key) },
    mqtt: { ...config.mqtt, cert: cloudFile(config.mqtt.cert), key: cloudFile(config.mqtt.key) },
    store: { ...config.store, keyFile: cloudFile(config.store.keyFile) },
    backup: { ...config.backup, dir: cloudFile(config.backup.dir), passphraseFile: cloudFile(config.backup.passphraseFile) },
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''} (check the spelling; see README "Configuration")`;
  }
  const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
  return `${path || '(top level)'}: ${issue.message}${got}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
