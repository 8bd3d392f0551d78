import { CodedError, DriverErrorCodes } from '../drivers/errors.ts';

/**
 * Coded errors. Every error Trellis raises on purpose carries one of these codes, so logs, the CLI
 * and the LAN API react to the code, not the message. The table in README.md lists them.
 */
export const ErrorCodes = {
  /** Config file unreadable, not YAML, or fails the schema. */
  config: 'TRELLIS_E_CONFIG',
  /** The SQLite store cannot be opened or migrated. */
  store: 'TRELLIS_E_STORE',
  /** A device name or credential request is invalid or already taken. */
  device: 'TRELLIS_E_DEVICE',
  /** payload, discovery, command, broker: the drivers' own (drivers/errors.ts) */
  ...DriverErrorCodes,
  /** A rule file cannot be read, or fails its checks (schema, references, cycles). */
  rules: 'TRELLIS_E_RULES',
  /** A LAN API sign-in, pairing or membership request cannot be done (name taken, last owner). */
  auth: 'TRELLIS_E_AUTH',
  /** A backup cannot be made or restored: wrong passphrase, a damaged or altered file, a data directory that is not empty. */
  backup: 'TRELLIS_E_BACKUP',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class TrellisError extends CodedError<ErrorCode> {}

/** A coded error of the gateway or of a driver. */
export function isTrellisError(err: unknown): err is CodedError<ErrorCode> {
  return err instanceof CodedError;
}
