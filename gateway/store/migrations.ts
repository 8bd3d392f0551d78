/**
 * Versioned schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
 * records the last one applied. Never edit a released migration: append a new one.
 *
 * History is append-heavy: `readings` is a plain rowid table with no secondary index, so each insert
 * appends to the end of one B-tree (an index on (series, ts) with many interleaved sensors costs ~10x
 * in write throughput, see ENVIRONMENT.md). Rows arrive in time order, so the oldest rows sit at the
 * lowest rowids and retention pruning walks from the start.
 */
export const migrations: readonly string[] = [
  // 1: devices, credentials, attributes, state, history, device events, retained MQTT configs
  `
  CREATE TABLE credentials (
    username   TEXT PRIMARY KEY,
    hash       TEXT NOT NULL,
    topics     TEXT NOT NULL,            -- JSON array of MQTT topic filters this credential owns
    created_at INTEGER NOT NULL,
    rotated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    protocol     TEXT NOT NULL,
    owner        TEXT NOT NULL,
    manufacturer TEXT,
    model        TEXT,
    sw_version   TEXT,
    online       INTEGER NOT NULL DEFAULT 0,
    last_seen    INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE series (
    id           INTEGER PRIMARY KEY,
    device_id    TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    attribute    TEXT NOT NULL,
    type         TEXT NOT NULL,
    unit         TEXT,
    device_class TEXT,
    state_class  TEXT,
    writable     INTEGER NOT NULL,
    min          REAL,
    max          REAL,
    step         REAL,
    UNIQUE (device_id, attribute)
  ) STRICT;

  -- last known value per attribute, updated once per batch
  CREATE TABLE state (
    series_id INTEGER PRIMARY KEY REFERENCES series(id) ON DELETE CASCADE,
    value     ANY NOT NULL,
    ts        INTEGER NOT NULL
  ) STRICT;

  -- reading history: numbers in num, booleans as 0/1 in num, strings in txt
  CREATE TABLE readings (
    series_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    num       REAL,
    txt       TEXT
  ) STRICT;

  -- availability, faults and button presses (low volume)
  CREATE TABLE device_events (
    id        INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL
  ) STRICT;

  -- retained configuration messages (HA discovery, native config), so devices are known after a restart
  CREATE TABLE mqtt_configs (
    topic      TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: rules: pending timers (for:, delays, time triggers) survive restarts; alerts
  `
  CREATE TABLE rule_timers (
    id        TEXT PRIMARY KEY,
    rule_id   TEXT NOT NULL,
    rule_hash TEXT NOT NULL,          -- timers of a rule whose definition changed are dropped
    kind      TEXT NOT NULL,
    due_at    INTEGER NOT NULL,
    data      TEXT NOT NULL
  ) STRICT;

  CREATE TABLE alerts (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    rule_id  TEXT,
    severity TEXT NOT NULL,
    message  TEXT NOT NULL
  ) STRICT;
  `,
  // 3: metering, the cloud outbox, remote commands
  `
  -- closed hourly usage buckets: immutable once written
  CREATE TABLE usage_buckets (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    start     INTEGER NOT NULL,
    end       INTEGER NOT NULL,
    data      TEXT NOT NULL,            -- JSON: metrics, gaps, reading count
    UNIQUE (device_id, start)
  ) STRICT;

  -- the meter's state after folding readings up to these rowids (saved when hours close)
  CREATE TABLE meter_checkpoint (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    readings_rowid INTEGER NOT NULL,
    events_rowid   INTEGER NOT NULL,
    state          TEXT NOT NULL,
    saved_at       INTEGER NOT NULL
  ) STRICT;

  -- records waiting for the cloud broker's PUBACK; priority 0 (alarm) drains first
  CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    priority   INTEGER NOT NULL,
    topic      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX outbox_drain ON outbox (priority, seq);

  -- counters that must survive restarts: outbox drops per priority, the last sequence number used
  CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;

  -- every remote command with its outcome; (provider, request_id) answers a redelivery without re-running it
  CREATE TABLE command_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    source     TEXT NOT NULL,
    provider   TEXT NOT NULL,
    request_id TEXT NOT NULL,
    request    TEXT NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT,
    UNIQUE (provider, request_id)
  ) STRICT;

  -- alerts now come from maintenance signals and the gateway too, some about one device
  ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT 'rule';
  ALTER TABLE alerts ADD COLUMN device_id TEXT;
  `,
  // 4: LAN API: people, their sessions, pairing and invite codes, rooms
  `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,          -- owner, member, guest
    password_hash TEXT,                   -- argon2id; NULL: this person signs in only with session tokens
    created_at    INTEGER NOT NULL
  ) STRICT;

  -- bearer tokens, stored as sha256 (they are 256-bit random, so a plain hash is enough)
  CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used  INTEGER NOT NULL
  ) STRICT;

  -- one-time codes: the first-start pairing code (role owner) and invites; sha256 of the code
  CREATE TABLE pairing_codes (
    code_hash  TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    created_by INTEGER,
    expires_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE device_meta (
    device_id TEXT PRIMARY KEY,
    room      TEXT
  ) STRICT;
  `,
  // 5: parties, grants, the audit log, secrets; queued records belong to one provider
  `
  -- service providers, identified by their cloud identity (broker username or certificate CN)
  CREATE TABLE providers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  -- what a provider may see and do; default deny
  CREATE TABLE grants (
    id          INTEGER PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    devices     TEXT NOT NULL,          -- JSON: device ids, "tag:<tag>", or "*"
    classes     TEXT NOT NULL,          -- JSON: usage, maintenance, health, telemetry, alerts
    commands    TEXT NOT NULL,          -- JSON: attributes the provider may set on those devices
    identity    INTEGER NOT NULL,       -- 1: real device ids; 0: per-provider pseudonyms
    expires_at  INTEGER,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  ) STRICT;

  -- every grant, revoke, remote command, LAN write and export; each row's hash covers the previous one
  CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  ) STRICT;

  CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
  ) STRICT;

  -- who a queued record is for, its data class and device (to purge what a revoked grant no longer covers)
  ALTER TABLE outbox ADD COLUMN provider TEXT;
  ALTER TABLE outbox ADD COLUMN data_class TEXT;
  ALTER TABLE outbox ADD COLUMN device_id TEXT;
  CREATE INDEX outbox_provider ON outbox (provider);
  ALTER TABLE device_meta ADD COLUMN tags TEXT;
  `,
  // 6: MQTT client ids belong to credentials: reserved (`device add --client-id`) or bound on first use
  `
  CREATE TABLE client_ids (
    client_id TEXT PRIMARY KEY,
    owner     TEXT NOT NULL,            -- credential username
    reserved  INTEGER NOT NULL,         -- 1: named by the owner; 0: bound when first used
    last_used INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX client_ids_owner ON client_ids (owner, last_used);
  `,
  // 7: what an attribute is beyond its type: its friendly name, options, accepted commands, momentary (JSON)
  `
  ALTER TABLE series ADD COLUMN extra TEXT;
  `,
  // 8: Bluetooth devices adopted from a scan (a sensor's bind key is as secret as in the config file)
  `
  CREATE TABLE ble_devices (
    address    TEXT PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    profile    TEXT NOT NULL,
    bind_key   TEXT,
    adopted_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 9: the highest counter accepted from each encrypted BTHome sensor (address and key hash), so a replay after a restart is refused
  `
  CREATE TABLE replay_counters (
    sensor  TEXT PRIMARY KEY,
    counter INTEGER NOT NULL
  ) STRICT;
  `,
  // 10: the energy view reads every device's buckets of a period
  `
  CREATE INDEX usage_buckets_start ON usage_buckets (start);
  `,
  // 11: each person's home screen: favourites, simple mode (JSON)
  `
  CREATE TABLE person_prefs (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    data    TEXT NOT NULL
  ) STRICT;
  `,
];
