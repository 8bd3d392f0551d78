import { SUMMARY_FROM_JSON } from '../usageSummary.ts';
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
  // 3: inventory, people, alarm handling, tickets, commands and jobs, usage repair, diagnosis
  `
  ALTER TABLE gateways ADD COLUMN label text, ADD COLUMN customer text, ADD COLUMN time_zone text, ADD COLUMN manifest_at bigint;
  ALTER TABLE alarms ADD COLUMN acknowledged_by text, ADD COLUMN acknowledged_at bigint, ADD COLUMN escalated_at bigint;
  CREATE INDEX alarms_by_state ON alarms (state, acknowledged, severity);
  CREATE TABLE devices (
    gateway_id     text NOT NULL,
    device_ref     text NOT NULL,     -- as this provider knows it: a pseudonym unless the owner granted identity
    kind           text,
    model          text,
    name           text,              -- only where the owner allowed real names
    capabilities   jsonb NOT NULL DEFAULT '[]',
    commands       jsonb NOT NULL DEFAULT '[]',  -- attributes this provider may set remotely
    classes        jsonb NOT NULL DEFAULT '[]',
    access         text NOT NULL DEFAULT 'granted' CHECK (access IN ('granted', 'ended')),
    access_ended_at bigint,
    online         boolean,           -- from the manifest; null when the gateway does not say
    offline_since  bigint,
    first_seen     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    PRIMARY KEY (gateway_id, device_ref)
  );
  CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'technician', 'billing')),
    password_hash text NOT NULL,
    created_at    bigint NOT NULL
  );
  CREATE TABLE tokens (
    token_hash  text PRIMARY KEY,     -- sha-256 of the bearer token; the token itself is never stored
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  bigint NOT NULL,
    revoked_at  bigint
  );
  CREATE TABLE tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway_id      text NOT NULL,
    device_ref      text NOT NULL DEFAULT '',
    alarm_code      text,
    alarm_id        bigint REFERENCES alarms (id),
    title           text NOT NULL,
    priority        text NOT NULL CHECK (priority IN ('critical', 'high', 'normal', 'low')),
    state           text NOT NULL CHECK (state IN ('open', 'assigned', 'scheduled', 'in_progress', 'resolved', 'closed')),
    assignee_id     bigint REFERENCES users (id),
    scheduled_for   bigint,
    resolution_code text,
    notes           text,
    verified_at     bigint,
    reopened        integer NOT NULL DEFAULT 0,
    visits          integer NOT NULL DEFAULT 0,
    created_at      bigint NOT NULL,
    acknowledged_at bigint,
    resolved_at     bigint,
    closed_at       bigint,
    ack_due_at      bigint NOT NULL,
    resolve_due_at  bigint NOT NULL
  );
  CREATE UNIQUE INDEX tickets_one_open_per_alarm ON tickets (gateway_id, device_ref, alarm_code) WHERE state <> 'closed' AND alarm_code IS NOT NULL;
  CREATE TABLE ticket_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  bigint NOT NULL REFERENCES tickets (id),
    at         bigint NOT NULL,
    actor      text NOT NULL,
    from_state text,
    to_state   text NOT NULL,
    note       text
  );
  CREATE TABLE jobs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    attribute  text NOT NULL,
    value      jsonb NOT NULL,
    filter     jsonb NOT NULL,
    created_by text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE commands (
    request_id  text PRIMARY KEY,
    gateway_id  text NOT NULL,
    device_ref  text NOT NULL,
    attribute   text NOT NULL,
    value       jsonb NOT NULL,
    state       text NOT NULL CHECK (state IN ('created', 'sent', 'succeeded', 'failed', 'rejected', 'timed_out', 'expired')),
    reason      text,
    job_id      bigint REFERENCES jobs (id),
    created_by  text NOT NULL,
    created_at  bigint NOT NULL,
    not_before  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    sent_at     bigint,
    finished_at bigint
  );
  CREATE INDEX commands_pending ON commands (state, not_before) WHERE state IN ('created', 'sent');
  CREATE INDEX commands_by_job ON commands (job_id);
  CREATE TABLE resend_requests (
    request_id  text PRIMARY KEY,
    gateway_id  text NOT NULL,
    device_ref  text NOT NULL,
    from_at     bigint NOT NULL,
    to_at       bigint NOT NULL,
    created_at  bigint NOT NULL,
    sent_at     bigint,
    answered_at bigint,
    resent      integer,
    not_covered integer
  );
  CREATE TABLE diagnostics (
    request_id   text PRIMARY KEY,
    gateway_id   text NOT NULL,
    device_ref   text NOT NULL,
    requested_by text NOT NULL,
    created_at   bigint NOT NULL,
    sent_at      bigint,
    answered_at  bigint,
    status       text,
    data         jsonb
  );
  CREATE TABLE broker_accounts (
    gateway_id    text PRIMARY KEY,   -- the embedded broker's user name of a gateway
    password_hash text NOT NULL,      -- argon2id
    created_at    bigint NOT NULL
  );
  CREATE INDEX health_by_time ON health (at);
  CREATE TABLE health_hourly (
    gateway_id  text NOT NULL,
    provider    text NOT NULL,
    hour        bigint NOT NULL,
    samples     integer NOT NULL,
    data        jsonb NOT NULL,      -- the hour's last record, with mean/max of the figures that matter
    PRIMARY KEY (gateway_id, provider, hour)
  );
  `,
  `
  CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       bigint NOT NULL,
    actor    text NOT NULL,          -- role:name of the signed-in person, or the name tried at a sign-in
    action   text NOT NULL,          -- ticket.assign, alarm.acknowledge, command.send, ... (the route's audit name)
    target   text NOT NULL,          -- what it acted on: a ticket id, a site, a person
    status   integer NOT NULL,       -- the HTTP status it got: 2xx done, 4xx refused
    detail   jsonb NOT NULL          -- the request body without secrets, and the refusal's message
  );
  CREATE INDEX audit_log_by_time ON audit_log (at);
  -- Live updates: a statement that changes a table the console shows notifies 'fleet_change' with the
  -- table's name (one per table per transaction). High-volume tables (usage, health, signals) do not
  -- notify; the console reloads those on a slower timer. A gateway's row notifies only when its state
  -- or label changes, not on every record's last_seen; a device's only when what the console shows of it
  -- changes, not on every 30-second manifest. Those two are row triggers: an upsert fires a table's
  -- statement-level INSERT trigger even when it only updated.
  CREATE FUNCTION fleet_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('fleet_change', TG_TABLE_NAME); RETURN NULL; END $$;
  CREATE TRIGGER alarms_notify AFTER INSERT OR UPDATE OR DELETE ON alarms FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER tickets_notify AFTER INSERT OR UPDATE OR DELETE ON tickets FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER commands_notify AFTER INSERT OR UPDATE OR DELETE ON commands FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OR DELETE ON jobs FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER diagnostics_notify AFTER INSERT OR UPDATE OR DELETE ON diagnostics FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER devices_insert_notify AFTER INSERT ON devices FOR EACH ROW EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER devices_change_notify AFTER UPDATE ON devices FOR EACH ROW
    WHEN ((OLD.online, OLD.access, OLD.name, OLD.model, OLD.commands, OLD.classes) IS DISTINCT FROM (NEW.online, NEW.access, NEW.name, NEW.model, NEW.commands, NEW.classes))
    EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER tokens_notify AFTER UPDATE OR DELETE ON tokens FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify(); -- a sign-out ends live streams
  CREATE TRIGGER audit_notify AFTER INSERT ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER gateways_insert_notify AFTER INSERT ON gateways FOR EACH ROW EXECUTE FUNCTION fleet_notify();
  CREATE TRIGGER gateways_state_notify AFTER UPDATE ON gateways FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.label IS DISTINCT FROM NEW.label OR OLD.customer IS DISTINCT FROM NEW.customer)
    EXECUTE FUNCTION fleet_notify();
  `,
  // 5: predictive maintenance: each device's daily risk score and what drove it (fleet/jobs/risk.ts)
  `
  CREATE TABLE device_risk (
    gateway_id   text NOT NULL,
    device_ref   text NOT NULL,
    day          bigint NOT NULL,    -- the scored day's start (UTC), ms
    model        text NOT NULL,
    score        double precision NOT NULL,
    driver       text,
    trend        double precision,
    peers_median double precision,
    peers        integer NOT NULL,
    eta_days     double precision,
    words        text NOT NULL,
    computed_at  bigint NOT NULL,
    PRIMARY KEY (gateway_id, device_ref, day)
  );
  CREATE INDEX device_risk_by_day ON device_risk (day, score DESC);
  CREATE INDEX maintenance_signals_by_time ON maintenance_signals (at);
  `,
  // 6: each feature's z of a scored day (the ticket rule reads the temperature's, not only the largest)
  `
  ALTER TABLE device_risk ADD COLUMN z jsonb NOT NULL DEFAULT '{}';
  `,
  // 7: the share of an hour a device's element would need to serve its busiest hour again (the ticket rule's load)
  `
  ALTER TABLE device_risk ADD COLUMN load double precision, ADD COLUMN load_units double precision;
  `,
  // 8: the escalation round claims an alarm before it posts it, outside any transaction (jobs/escalation.ts)
  `
  ALTER TABLE alarms ADD COLUMN escalation_claimed_at bigint;
  `,
  // 9: what a month sums from each bucket, written with it (fleet/usageSummary.ts), so months are summed by the database from their own rows
  `
  ALTER TABLE usage_buckets
    ADD COLUMN energy_wh double precision, ADD COLUMN on_seconds double precision, ADD COLUMN starts double precision,
    ADD COLUMN door_seconds double precision, ADD COLUMN openings double precision, ADD COLUMN covered_seconds double precision,
    ADD COLUMN counters jsonb, ADD COLUMN gaps jsonb;
  ${SUMMARY_FROM_JSON};
  -- a site's month reads its month only, and whether each device had buckets before it
  CREATE INDEX usage_buckets_by_device_time ON usage_buckets (gateway_id, device_ref, start_at);
  `,
  // 10: the chance a device's busiest hour outruns it within days (maintenance/risk.ts), and its service requests (boolean signals: few, read whole)
  `
  ALTER TABLE device_risk ADD COLUMN fail_chance double precision, ADD COLUMN chance_days integer;
  CREATE INDEX maintenance_requests ON maintenance_signals (gateway_id, device_ref, at) WHERE data->>'unit' = 'bool';
  `,
  // 11: the risk round's days, aggregated once (fleet/jobs/riskDays.ts), and when records arrived, so a
  // day that got late ones is aggregated again (BRIN: rows come in roughly in arrival order, and a BRIN
  // index costs the ingest next to nothing)
  `
  ALTER TABLE maintenance_signals ADD COLUMN received_at bigint NOT NULL DEFAULT 0;
  CREATE INDEX maintenance_signals_by_arrival ON maintenance_signals USING brin (received_at);
  CREATE INDEX usage_buckets_by_arrival ON usage_buckets USING brin (received_at);
  CREATE TABLE device_days (
    gateway_id text NOT NULL,
    device_ref text NOT NULL,
    day        bigint NOT NULL,      -- the day's start (UTC), ms
    duty       double precision,
    peak       double precision,
    recovery   double precision,
    epu        double precision,
    warmth     double precision,
    at_rest    double precision,
    per_unit   double precision,
    peak_units double precision,
    PRIMARY KEY (day, gateway_id, device_ref)
  );
  -- which days device_days holds, and the arrival time up to which late records were looked for
  CREATE TABLE device_days_kept (day bigint PRIMARY KEY, aggregated_at bigint NOT NULL);
  CREATE TABLE device_days_checked (one boolean PRIMARY KEY DEFAULT true CHECK (one), until bigint NOT NULL);
  `,
];

/** The schema version this trellis-fleet migrates to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

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
