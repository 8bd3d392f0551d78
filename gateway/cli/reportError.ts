import { isTrellisError } from '../errors.ts';

/** Prints a TrellisError as its message (no stack), anything else in full; returns the exit code. */
export function reportError(err: unknown): number {
  if (isTrellisError(err)) {
    process.stderr.write(`${err.message}\n`);
    return err.code === 'TRELLIS_E_CONFIG' ? 2 : 1;
  }
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
