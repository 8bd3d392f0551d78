import { hash, verify } from '@node-rs/argon2';

/** argon2id at OWASP's second recommended setting (19 MiB, 2 passes) */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
let dummy: Promise<string> | undefined;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2);

/**
 * Checks a password against a stored hash. With no hash (an unknown user or gateway) it still costs
 * one verification, against a dummy, so timing does not tell which names exist.
 */
export async function checkPassword(stored: string | undefined, password: string | Buffer): Promise<boolean> {
  const target = stored ?? (await (dummy ??= hashPassword('trellis-fleet-dummy')));
  const ok = await verify(target, password).catch(() => false);
  return stored !== undefined && ok;
}
