import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheckRules } from '../../gateway/cli/checkRules.ts';
import { configFromObject } from '../../gateway/config/load.ts';
import { ErrorCodes } from '../../gateway/errors.ts';
import { Grants } from '../../gateway/store/grants.ts';
import { CredentialStore } from '../../gateway/store/credentials.ts';
import { openDb } from '../../gateway/store/db.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway } from '../helpers/testGateway.ts';

/**
 * Every documented error code is raised by the code (not only listed) and reaches the caller with its
 * code. The codes a running broker or BLE driver raise are tested where they happen:
 * TRELLIS_E_BROKER (integration/composition, unit/libraryInternals), TRELLIS_E_INTERNALS
 * (unit/libraryInternals), TRELLIS_E_PAYLOAD and TRELLIS_E_DISCOVERY (integration/brokerSecurity),
 * TRELLIS_E_STORE (integration/encryption).
 */
const root = join(import.meta.dirname, '..', '..');
const dirs = new TempDirs();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error codes', () => {
  it('every code is raised somewhere in the gateway or a driver', () => {
    const text = [...sources(join(root, 'gateway')), ...sources(join(root, 'drivers'))]
      .filter((f) => !f.endsWith('errors.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const [key, code] of Object.entries(ErrorCodes))
      expect(new RegExp(`\\b(Driver)?ErrorCodes\\.${key}\\b`).test(text), `${code} (ErrorCodes.${key}) is never raised`).toBe(true);
  });

  it('TRELLIS_E_CONFIG, _DEVICE, _AUTH, _RULES, _COMMAND reach the caller with their code', async () => {
    expect(() => configFromObject({ mqtt: { port: -1 } } as never)).toThrow(expect.objectContaining({ code: 'TRELLIS_E_CONFIG' }));
    const dir = dirs.make();
    const db = openDb(join(dir, 'trellis.db'), { synchronous: 'normal' });
    try {
      await expect(new CredentialStore(db).create('Bad Name!')).rejects.toMatchObject({ code: 'TRELLIS_E_DEVICE' });
      expect(() => new Grants(db).add({ providerId: 'no spaces allowed', devices: ['*'], classes: ['usage'] })).toThrow(
        expect.objectContaining({ code: 'TRELLIS_E_AUTH' }),
      );
    } finally {
      db.close();
    }
    expect(() => runCheckRules(join(dir, 'no-such-rules.yaml'), {})).toThrow(expect.objectContaining({ code: 'TRELLIS_E_RULES' }));
    const gw = await startTestGateway({}, dirs);
    try {
      await expect(gw.running.hub.command({ deviceId: 'nobody', attribute: 'power', value: true })).rejects.toMatchObject({ code: 'TRELLIS_E_COMMAND' });
    } finally {
      await gw.stop();
    }
  });
});
