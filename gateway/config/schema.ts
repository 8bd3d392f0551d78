import * as z from 'zod';
import { isTimeZone, systemTimeZone } from '../../rules/zoneinfo.ts';
import { tariffSchema } from '../../rules/schema.ts';
import { DEFINITIONS } from '../../drivers/serial/definitions.ts';
import { GATT_PROFILES } from '../../drivers/ble/profiles.ts';
import { cloudSchema, maintenanceSchema, meteringSchema, safetySchema } from './cloudSchema.ts';

/**
 * The trellis.yaml schema. Every key has a default that serves a Raspberry Pi install; unknown keys
 * are errors (a typo must not silently fall back to a default).
 */

/** An integer in [min, max] whose every failure reads "expected a number from min to max". */
function intRange(min: number, max: number, fallback: number) {
  const message = `expected a number from ${min} to ${max}`;
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }).default(fallback);
}

const hostSchema = z.string({ error: 'expected a host name or IP address' }).min(1, { error: 'expected a host name or IP address' });

const mqttSchema = z
  .strictObject({
    host: hostSchema.default('0.0.0.0'),
    port: intRange(1, 65535, 1883),
    allowAnonymous: z.boolean({ error: 'expected true or false' }).default(false),
    /** Largest MQTT packet accepted from a device; larger ones close that connection. */
    maxPacketBytes: intRange(64, 16 * 1024 * 1024, 256 * 1024),
    /** Largest payload the driver parses; larger ones are rejected and counted. */
    maxPayloadBytes: intRange(16, 1024 * 1024, 64 * 1024),
    /** Topics with more levels than this are refused. */
    maxTopicLevels: intRange(1, 64, 12),
    /** QoS 1 messages the broker keeps in flight towards one client. */
    maxInflight: intRange(1, 65535, 64),
    /** the plain (unencrypted) listener on `port`; off leaves only TLS */
    plain: z.boolean({ error: 'expected true or false' }).default(true),
    /** MQTT over TLS: off, self-signed (the gateway's own CA; see README "Security"), or files (cert and key) */
    tls: z.enum(['off', 'self-signed', 'files'], { error: 'expected off, self-signed or files' }).default('off'),
    tlsPort: intRange(1, 65535, 8883),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
  })
  .refine((m) => m.tls !== 'files' || (m.cert !== undefined && m.key !== undefined), { error: 'tls: files needs cert and key', path: ['tls'] })
  .refine((m) => m.plain || m.tls !== 'off', { error: 'plain: false needs tls on (devices need some way in)', path: ['plain'] });

const lanSchema = z
  .strictObject({
    /** the LAN API and phone UI */
    enabled: z.boolean({ error: 'expected true or false' }).default(true),
    host: hostSchema.default('0.0.0.0'),
    port: intRange(1, 65535, 8080),
    /** off, self-signed (made on first start, fingerprint printed), or files (cert and key) */
    tls: z.enum(['off', 'self-signed', 'files'], { error: 'expected off, self-signed or files' }).default('off'),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** pairing and sign-in requests per minute from one address (per route); more get 429 */
    authAttemptsPerMinute: intRange(1, 1000, 10),
    /** advertise _trellis._tcp over mDNS */
    mdns: z.boolean({ error: 'expected true or false' }).default(false),
    /** how often an open WebSocket re-checks its session (revoking one in the app closes its sockets at once) */
    sessionRecheckS: intRange(1, 3600, 30),
  })
  .refine((l) => l.tls !== 'files' || (l.cert !== undefined && l.key !== undefined), { error: 'tls: files needs cert and key', path: ['tls'] });

const historySchema = z.strictObject({
  retentionDays: intRange(1, 3650, 30),
  /** Readings no device waits on (QoS 0, serial, BLE) are committed at least this often. */
  flushMs: intRange(1, 10_000, 1000),
  /**
   * Readings a device waits on (QoS 1: the PUBACK follows the commit and its fsync) are group-committed:
   * at once when no sync runs, else together after it. The wear guard: when they arrive fast enough that
   * half this many come within `ackMaxWaitMs`, a commit waits for this many (fewer fsyncs, fewer bytes
   * written). 1: never wait.
   */
  ackMinBatch: intRange(1, 10_000, 50),
  /** ... for at most this long. */
  ackMaxWaitMs: intRange(0, 1000, 25),
  /** ... or as soon as this many readings wait. */
  batchSize: intRange(1, 100000, 2000),
  /**
   * Each attribute's last value and each device's last-seen time are saved this often (and on stop);
   * after a crash they are recomputed from the history. Less often: fewer bytes written per reading.
   */
  lastValuesEveryS: intRange(1, 3600, 300),
});

const storeSchema = z.strictObject({
  /**
   * `full` fsyncs the WAL on every commit, so an acknowledged reading survives a power cut; `normal`
   * survives a process crash only. Commits are batched either way.
   */
  synchronous: z.enum(['full', 'normal'], { error: 'expected "full" or "normal"' }).default('full'),
  /**
   * Encrypt the database at rest with the key in this file (created with a random key on first start).
   * Keep it off the data card for real protection. Relative to the config file. Absent: not encrypted.
   */
  keyFile: z.string({ error: 'expected a file path' }).min(1).optional(),
});

const logSchema = z.strictObject({
  level: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  /** `auto`: readable lines in a terminal, JSON when piped or under systemd; or always `json` / `pretty` */
  format: z.enum(['auto', 'json', 'pretty'], { error: 'expected auto, json or pretty' }).default('auto'),
});

const rulesSchema = z.strictObject({
  /** The rule file (YAML); relative paths are relative to the config file. Missing: no rules. */
  file: z.string({ error: 'expected a file path' }).min(1).default('./rules.yaml'),
  /** Rules triggering each other deeper than this are stopped and the rule disabled, with an alert. */
  cascadeLimit: intRange(1, 100, 10),
  /** Firings remembered per rule for "why did this run". */
  traceLimit: intRange(1, 1000, 50),
});

const deviceId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, { error: 'expected lower-case letters, digits, _ and - (1-64)' });

const serialLineSchema = z.strictObject({
  /** e.g. /dev/ttyUSB0, /dev/serial/by-id/...; relative paths are relative to the config file */
  path: z.string({ error: 'expected a serial port path' }).min(1),
  baudRate: z
    .number()
    .int()
    .refine((n) => [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].includes(n), { error: 'expected a standard baud rate (1200 ... 115200)' })
    .default(19200),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  protocol: z.enum(['modbus', 'text']).default('modbus'),
  /** per request (Modbus) or per command confirmation (text) */
  timeoutMs: intRange(20, 10_000, 300),
  retries: intRange(0, 10, 2),
  pollMs: intRange(20, 3_600_000, 1000),
  /** Modbus devices on this line */
  devices: z
    .array(
      z.strictObject({
        id: deviceId,
        name: z.string().optional(),
        unit: intRange(1, 247, 1),
        definition: z.enum(Object.keys(DEFINITIONS) as [string, ...string[]], { error: `expected one of ${Object.keys(DEFINITIONS).join(', ')}` }),
      }),
    )
    .default([]),
  /** the device on a text line */
  device: z
    .strictObject({ id: deviceId, name: z.string().optional(), format: z.enum(['kv', 'json']).default('kv'), writable: z.array(z.string()).default([]) })
    .optional(),
});

const bleSchema = z.strictObject({
  /** D-Bus address of the bus BlueZ is on; default: the system bus */
  dbusAddress: z.string().min(1).optional(),
  /** adapter name, e.g. hci0; default: the first one */
  adapter: z.string().min(1).optional(),
  scanMs: intRange(100, 600_000, 1000),
  /** an advertising (BTHome) sensor not heard from this long is offline */
  offlineAfterMs: intRange(1000, 86_400_000, 120_000),
  /** GATT devices connected at once */
  maxConnections: intRange(1, 16, 4),
  /** list BTHome sensors and known GATT devices nearby that are not set up, so the owner can adopt them from the app */
  scan: z.boolean({ error: 'expected true or false' }).default(false),
  devices: z
    .array(
      z.strictObject({
        address: z.string().regex(/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/, { error: 'expected a Bluetooth address like A4:C1:38:12:34:56' }),
        id: deviceId,
        name: z.string().optional(),
        profile: z.enum(['bthome', ...Object.keys(GATT_PROFILES)] as [string, ...string[]], {
          error: `expected bthome or one of ${Object.keys(GATT_PROFILES).join(', ')}`,
        }),
        /** an encrypted BTHome sensor's bind key (Shelly BLU devices print it on the box) */
        bindKey: z
          .string()
          .regex(/^[0-9A-Fa-f]{32}$/, { error: 'expected the 32 hex digits of a BTHome bind key' })
          .optional(),
      }),
    )
    .default([]),
});

const httpUrl = z
  .string()
  .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), { error: 'expected an http:// or https:// URL' });

const notifySchema = z.strictObject({
  /** how long one delivery may take */
  timeoutMs: intRange(500, 60_000, 5000),
  /** where alerts go besides the app: webhooks (a JSON POST) and ntfy topics */
  channels: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64).optional(),
        type: z.enum(['webhook', 'ntfy'], { error: 'expected webhook or ntfy' }),
        url: httpUrl,
        minSeverity: z.enum(['info', 'warning', 'critical']).default('warning'),
        /** ntfy: an access token */
        token: z.string().min(1).optional(),
      }),
    )
    .max(16)
    .default([]),
});

const energySchema = z.strictObject({
  /** what costs are shown in (a label: EUR, GBP, CHF, USD, ...) */
  currency: z.string().min(1).max(8).default('EUR'),
  /** per kWh outside every priced tariff window; unset: energy is shown without costs */
  price: z.number().nonnegative().max(100).optional(),
  /** per kWh in a tariff window (a name from `tariffs`), e.g. {peak: 0.32, offpeak: 0.18} */
  prices: z.record(z.string(), z.number().nonnegative().max(100)).default({}),
});

const backupSchema = z.strictObject({
  /** where automatic backups go (another disk or a USB stick, ideally); unset: no automatic backups */
  dir: z.string({ error: 'expected a directory path' }).min(1).optional(),
  /** a file holding the passphrase backups are encrypted with (the CLI uses it too when none is given) */
  passphraseFile: z.string({ error: 'expected a file path' }).min(1).optional(),
  /** when (cron, in the gateway's time zone); default: every day at 03:17 */
  schedule: z.string().min(9).default('17 3 * * *'),
  /** how many automatic backups are kept (the oldest go) */
  keep: intRange(1, 1000, 7),
  /** raw readings and device events too (usage buckets, alerts and the audit log always go in) */
  history: z.boolean({ error: 'expected true or false' }).default(false),
  /** a database found damaged at start is replaced by the newest backup that opens, instead of an empty one */
  restoreOnDamage: z.boolean({ error: 'expected true or false' }).default(true),
});

export const configSchema = z.strictObject({
  gatewayId: z
    .string({ error: 'expected a string' })
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'expected lower-case letters, digits and dashes (1-63 characters)' })
    .default('trellis'),
  dataDir: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }).default('./data'),
  /**
   * Names the gateway is reached by besides its host name, `trellis-<gatewayId>.local` and its
   * addresses (e.g. a DNS name your router gives it): the LAN API accepts them as Host, and the
   * self-signed certificate names them.
   */
  hostnames: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/, { error: 'expected a DNS name' })
        .max(253),
    )
    .max(32)
    .default([]),
  mqtt: mqttSchema.prefault({}),
  lan: lanSchema.prefault({}),
  history: historySchema.prefault({}),
  store: storeSchema.prefault({}),
  log: logSchema.prefault({}),
  demo: z.boolean({ error: 'expected true or false' }).default(false),
  /**
   * With `demo`: the gateway's clock starts `replayHours` in the past and runs `speed` times faster
   * until it reaches the present (usage buckets and maintenance signals within minutes, nothing
   * stamped in the future). `trellis-fleet demo` sets it on a fresh demo.
   */
  demoClock: z
    .strictObject({
      speed: z.number({ error: 'expected a number above 1' }).gt(1).max(120).default(12),
      replayHours: z.number({ error: 'expected hours' }).min(0).max(24).default(6),
    })
    .optional(),
  /** IANA time zone for time triggers, windows and tariffs; default: the system's. */
  timezone: z
    .string({ error: 'expected an IANA time zone like Europe/Berlin' })
    .refine(isTimeZone, { error: 'expected an IANA time zone like Europe/Berlin' })
    .default(systemTimeZone),
  /** Named tariff windows for rule conditions, e.g. peak: {from: "17:00", to: "21:00", weekdays: [mon, tue]}. */
  tariffs: z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/), tariffSchema).default({}),
  rules: rulesSchema.prefault({}),
  /** Serial lines: Modbus RTU buses and simple text-protocol devices. */
  serial: z.array(serialLineSchema).default([]),
  /** Bluetooth LE devices through BlueZ: BTHome sensors (advertisements) and GATT devices. */
  ble: bleSchema.prefault({}),
  backup: backupSchema.prefault({}),
  energy: energySchema.prefault({}),
  notify: notifySchema.prefault({}),
  /** Hourly usage buckets (energy, on-time, cycles, door-open time, temperatures). */
  metering: meteringSchema.prefault({}),
  /** Thresholds of the maintenance signals; crossing one raises an alert. */
  maintenance: maintenanceSchema.prefault({}),
  /** Local limits no remote party can pass. */
  safety: safetySchema.prefault({}),
  /** Sync to the service provider's cloud MQTT broker. */
  cloud: cloudSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
