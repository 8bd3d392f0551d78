/**
 * Coded errors. Every error Trellis raises on purpose carries one of these codes, so logs, the CLI
 * and (later) the LAN API can react to the code, not the message. The table in README.md lists them.
 */
export const ErrorCodes = {
  /** Config file unreadable, not YAML, or fails the schema. */
  config: 'TRELLIS_E_CONFIG',
  /** The SQLite store cannot be opened or migrated. */
  store: 'TRELLIS_E_STORE',
  /** A device name or credential request is invalid or already taken. */
  device: 'TRELLIS_E_DEVICE',
  /** A payload from a device failed validation (counted, never thrown past the driver). */
  payload: 'TRELLIS_E_PAYLOAD',
  /** A Home Assistant discovery config failed validation. */
  discovery: 'TRELLIS_E_DISCOVERY',
  /** A command names an unknown device or attribute, or a value of the wrong type. */
  command: 'TRELLIS_E_COMMAND',
  /** The broker cannot listen (port taken, permission). */
  broker: 'TRELLIS_E_BROKER',
  /** A rule file cannot be read, or fails its checks (schema, references, cycles). */
  rules: 'TRELLIS_E_RULES',
  /** A LAN API sign-in, pairing or membership request cannot be done (name taken, last owner). */
  auth: 'TRELLIS_E_AUTH',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class TrellisError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrellisError';
    this.code = code;
  }
}

export function isTrellisError(err: unknown): err is TrellisError {
  return err instanceof TrellisError;
}
