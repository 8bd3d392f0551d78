import { afterAll } from 'vitest';
import { type FleetDb, pgliteDb, postgresDb } from '../../fleet/db/fleetDb.ts';
import { migrate } from '../../fleet/db/migrations.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import type { TempDirs } from '../helpers/tempDir.ts';

/**
 * The two engines every fleet storage suite runs on: a PostgreSQL 15 server (one temp cluster per
 * test file, started on first use) and PGlite. For `describe.each`; the cluster stops after the file.
 */
export function engines(dirs: TempDirs): Array<[string, () => Promise<FleetDb>]> {
  let pg: TempPostgres | undefined;
  afterAll(() => pg?.stop());
  return [
    ['PostgreSQL 15', async () => postgresDb((pg ??= await startPostgres()).url)],
    ['PGlite', () => pgliteDb(dirs.make('trellis-pglite-'))],
  ];
}

/** A migrated database on `open`'s engine. */
export async function migrated(open: () => Promise<FleetDb>): Promise<FleetDb> {
  const db = await open();
  await migrate(db);
  return db;
}
