/**
 * The drivers' own coded errors (they import nothing from the gateway). The gateway's ErrorCodes
 * include these codes, and its `isTrellisError` recognises a DriverError too.
 */
export const DriverErrorCodes = {
  /** A payload from a device failed validation (reported as a rejection, never thrown past the driver). */
  payload: 'TRELLIS_E_PAYLOAD',
  /** A Home Assistant discovery config failed validation (reported as a rejection). */
  discovery: 'TRELLIS_E_DISCOVERY',
  /** A command names an unknown device or attribute, or a value of the wrong type. */
  command: 'TRELLIS_E_COMMAND',
  /** The broker cannot listen (port taken, permission), or a library hook it relies on is missing. */
  broker: 'TRELLIS_E_BROKER',
  /** A library's private part a driver relies on (node-ble's Bluetooth class) is missing or changed. */
  internals: 'TRELLIS_E_INTERNALS',
} as const;

export type DriverErrorCode = (typeof DriverErrorCodes)[keyof typeof DriverErrorCodes];
/** What a rejected payload is reported as. */
export type RejectionCode = typeof DriverErrorCodes.payload | typeof DriverErrorCodes.discovery;

/** An error with a documented `TRELLIS_E_*` code; the drivers' and the gateway's errors are both. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class DriverError extends CodedError<DriverErrorCode> {}
