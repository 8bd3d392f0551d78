import type { FleetDb } from './fleetDb.ts';

/**
 * The fleet's schema, one migration per entry (PostgreSQL; the same on PGlite). Times are ms since the
 * epoch (bigint), as on the wire. Each record table's primary key is the record's idempotency key, so
 * a redelivered message changes nothing.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE gateways (
    gateway_id    text PRIMARY KEY,
    state         text,              -- online | offline, from the retained status and the last will
    version       text,
    state_at      bigint,
    first_seen    bigint NOT NULL,
    last_seen     bigint NOT NULL,
    invalid_count integer NOT NULL DEFAULT 0
  );
  CREATE TABLE usage_buckets (
    gateway_id  text NOT NULL,
    provider    text NOT NULL,
    device_ref  text NOT NULL,
    bucket_seq  integer NOT NULL,    -- the gateway's own sequence number of the bucket
    start_at    bigint NOT NULL,
    end_at      bigint NOT NULL,
    data        jsonb NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (gateway_id, provider, device_ref, bucket_seq)
  );
  CREATE INDEX usage_buckets_by_time ON usage_buckets (start_at);
  CREATE TABLE alerts (
    gateway_id  text NOT NULL,
    provider    text NOT NULL,
    record_key  text NOT NULL,       -- the envelope's key <gatewayId>:<seq>
    severity    text NOT NULL,
    source      text NOT NULL,
    message     text NOT NULL,
    device_ref  text,
    at          bigint NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (gateway_id, provider, record_key)
  );
  CREATE TABLE health (
    gateway_id  text NOT NULL,
    provider    text NOT NULL,
    at          bigint NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (gateway_id, provider, at)
  );
  CREATE TABLE maintenance_signals (
    gateway_id  text NOT NULL,
    provider    text NOT NULL,
    device_ref  text NOT NULL,
    signal      text NOT NULL,
    attribute   text NOT NULL,
    at          bigint NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (gateway_id, provider, device_ref, signal, attribute, at)
  );
  CREATE TABLE command_results (
    gateway_id  text NOT NULL,
    provider    text NOT NULL,
    request_id  text NOT NULL,
    status      text NOT NULL,
    reason      text,
    at          bigint NOT NULL,
    PRIMARY KEY (gateway_id, provider, request_id)
  );
  CREATE TABLE invalid_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway_id  text,
    topic       text NOT NULL,
    reason      text NOT NULL,
    payload     text NOT NULL,       -- the first 4 KB, for inspection
    received_at bigint NOT NULL
  );
  `,
  // 2: alarms with a lifecycle: one active alarm per (gateway, device, code), repeats counted
  `
  CREATE TABLE alarms (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway_id   text NOT NULL,
    device_ref   text NOT NULL DEFAULT '',  -- '' for a gateway-wide alarm
    code         text NOT NULL,             -- rule.<ruleId>, maintenance, gateway, gateway.offline, ...
    severity     text NOT NULL,
    message      text NOT NULL,
    state        text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cleared')),
    acknowledged boolean NOT NULL DEFAULT false,
    count        integer NOT NULL DEFAULT 1,
    first_at     bigint NOT NULL,
    last_at      bigint NOT NULL,
    cleared_at   bigint
  );
  CREATE UNIQUE INDEX alarms_one_active ON alarms (gateway_id, device_ref, code) WHERE state = 'active';
  `,
];

/** Brings the schema up to date, once across every worker (an advisory lock serialises them). */
export async function migrate(db: FleetDb): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7461626)');
    await tx.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_version');
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) throw new Error(`the fleet database is at schema ${current}, newer than this trellis-fleet (${MIGRATIONS.length})`);
    for (let v = current; v < MIGRATIONS.length; v++) await tx.exec(MIGRATIONS[v] as string);
    if (rows.length === 0) await tx.query('INSERT INTO schema_version (version) VALUES ($1)', [MIGRATIONS.length]);
    else await tx.query('UPDATE schema_version SET version = $1', [MIGRATIONS.length]);
    return MIGRATIONS.length;
  });
}
