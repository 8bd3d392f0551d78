import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

/** One SQL dialect (PostgreSQL) over two engines: a PostgreSQL server through `pg`, or PGlite in-process. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface FleetDb extends Queryable {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Calls `onNotify` with each NOTIFY payload on `channel` (after the notifying transaction commits),
   * until the returned function is called. After a lost connection is re-established it calls
   * `onNotify('*')`: something may have changed unseen.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** `postgres` or `pglite`, for logs and tests */
  readonly engine: 'postgres' | 'pglite';
}

/** A PostgreSQL server (production, and Debian's postgresql-15 in tests). */
export async function postgresDb(connectionString: string, max = 4): Promise<FleetDb> {
  const { default: pg } = await import('pg');
  // bigint columns come back as numbers (ms timestamps and counts stay far below 2^53)
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool: Pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => undefined); // an idle client's lost connection: the next query reconnects
  // a client in use when the server goes (a restart, a failover) also emits 'error', and without a
  // listener that ends the process: the query in flight rejects with it anyway, and the pool drops it
  pool.on('connect', (client) => client.on('error', () => undefined));
  const on = (c: Pool | PoolClient): Queryable => ({
    query: async <T>(sql: string, params?: readonly unknown[]) => (await c.query(sql, params as unknown[])).rows as T[],
    exec: async (sql: string) => void (await c.query(sql)),
  });
  return {
    engine: 'postgres',
    ...on(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(on(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
    listen: (channel, onNotify) => listenOnOwnConnection(pg, connectionString, channel, onNotify),
  };
}

const RELISTEN_MS = 1000;

/** LISTEN needs a connection of its own (a pooled one goes back to the pool); it is re-opened when lost. */
async function listenOnOwnConnection(
  pg: typeof import('pg').default,
  connectionString: string,
  channel: string,
  onNotify: (payload: string) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: InstanceType<typeof pg.Client> | undefined;
  let retry: NodeJS.Timeout | undefined;
  const reopenLater = (c: InstanceType<typeof pg.Client>) => {
    if (stopped || client !== c || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void open(true);
    }, RELISTEN_MS);
  };
  const open = async (again: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString });
    client = c;
    c.on('notification', (n) => onNotify(n.payload ?? ''));
    c.on('error', () => undefined);
    c.on('end', () => reopenLater(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
    } catch (err) {
      if (!again) stopped = true; // the caller gets the error; no retries behind its back
      await c.end().catch(() => undefined);
      if (!again) throw err;
      reopenLater(c);
      return;
    }
    if (again) onNotify('*');
  };
  await open(false);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}

/** PGlite: Postgres compiled to WASM, in this process, persisted to `dir` (the embedded default). */
export async function pgliteDb(dir: string): Promise<FleetDb> {
  const { PGlite: Engine } = await import('@electric-sql/pglite');
  const db: PGlite = await Engine.create(dir);
  const bigintAsNumber = { parsers: { 20: (v: string) => Number(v) } };
  return {
    engine: 'pglite',
    query: async <T>(sql: string, params?: readonly unknown[]) => (await db.query<T>(sql, params as unknown[], bigintAsNumber)).rows,
    exec: async (sql: string) => void (await db.exec(sql)),
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: async <T>(sql: string, params?: readonly unknown[]) => (await tx.query<T>(sql, params as unknown[], bigintAsNumber)).rows,
          exec: async (sql: string) => void (await tx.exec(sql)),
        }),
      ),
    close: () => db.close(),
    listen: (channel, onNotify) => db.listen(channel, onNotify),
  };
}
