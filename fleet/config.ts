import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';
import { DEFAULT_TICKET_RULE } from './maintenance/risk.ts';

const PROVIDER = /^[A-Za-z0-9_.:-]{1,64}$/;
const priority = z.enum(['critical', 'high', 'normal', 'low']);
const minutes = (d: number) => z.number().positive().max(525_600).default(d);

/** Minutes to acknowledge and to resolve, per ticket priority. */
export const slaDefaults = {
  critical: { acknowledgeMinutes: 15, resolveMinutes: 240 },
  high: { acknowledgeMinutes: 60, resolveMinutes: 1440 },
  normal: { acknowledgeMinutes: 240, resolveMinutes: 4320 },
  low: { acknowledgeMinutes: 1440, resolveMinutes: 10080 },
};
const sla = z.strictObject({ acknowledgeMinutes: z.number().positive(), resolveMinutes: z.number().positive() });

export const fleetConfigSchema = z.strictObject({
  /** this provider's id: its broker user name, the `p/<provider>/` of the streams it reads */
  provider: z.string().regex(PROVIDER, 'expected letters, digits, _ . : - (1-64)').default('provider'),
  /** PGlite's database (when no PostgreSQL url is given) and the embedded broker's TLS files */
  dataDir: z.string().min(1).default('fleet-data'),
  /** a PostgreSQL server; without it, PGlite in dataDir */
  database: z.strictObject({ url: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host/db') }).optional(),
  broker: z
    .union([
      z.strictObject({
        url: z.string().regex(/^(mqtts?|wss?):\/\//, 'expected mqtts://host:port'),
        username: z.string().optional(),
        passwordFile: z.string().optional(),
        ca: z.string().optional(),
        protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
      }),
      z.strictObject({
        /** the embedded broker, for a small provider with no broker of its own */
        embedded: z.strictObject({
          host: z.string().default('127.0.0.1'),
          port: z.number().int().min(0).max(65535).default(8883),
          /** a self-signed certificate in dataDir/broker-tls (give its cert.pem to the gateways as their cloud.ca); off only on loopback */
          tls: z.boolean().default(true),
        }),
      }),
    ])
    .default({ embedded: { host: '127.0.0.1', port: 8883, tls: true } }),
  /** this worker's MQTT client id (unique per worker) and the shared-subscription group */
  worker: z.strictObject({ id: z.string().regex(PROVIDER).optional(), group: z.string().regex(PROVIDER).default('ingest') }).default({ group: 'ingest' }),
  api: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8480),
      signInPerMinute: z.number().int().positive().default(10),
    })
    .default({ host: '127.0.0.1', port: 8480, signInPerMinute: 10 }),
  checks: z
    .strictObject({
      everySeconds: z.number().positive().max(3600).default(5),
      /** a gateway silent this long is offline (it sends health every minute by default) */
      gatewayOfflineMinutes: minutes(5),
      /** a granted device its gateway says is offline this long gets a device.offline alarm */
      deviceOfflineMinutes: minutes(15),
      /** a command not answered this long after it was sent has timed out */
      commandTimeoutMinutes: minutes(10),
      /** a command to an offline gateway waits this long by default */
      commandExpiryMinutes: minutes(1440),
      /** how often missing usage buckets are looked for (it reads a month of buckets) */
      gapsEverySeconds: z.number().positive().max(86_400).default(60),
      /** a gap counts only once the bucket after it is this old (records of a burst commit out of order) */
      gapSettleSeconds: z.number().nonnegative().max(86_400).default(600),
    })
    .default({
      everySeconds: 5,
      gatewayOfflineMinutes: 5,
      deviceOfflineMinutes: 15,
      commandTimeoutMinutes: 10,
      commandExpiryMinutes: 1440,
      gapsEverySeconds: 60,
      gapSettleSeconds: 600,
    }),
  alarms: z
    .strictObject({
      /** an unacknowledged critical alarm is escalated after this long to the webhook */
      escalateAfterMinutes: minutes(30),
      webhook: z.url({ protocol: /^https?$/ }).optional(),
    })
    .default({ escalateAfterMinutes: 30 }),
  tickets: z
    .strictObject({
      /** alarm codes that open a ticket by themselves */
      autoOpen: z.array(z.strictObject({ code: z.string().min(1), title: z.string().min(1).max(200), priority: priority.default('normal') })).default([]),
      sla: z.strictObject({ critical: sla, high: sla, normal: sla, low: sla }).default(slaDefaults),
      /** a resolved ticket is verified (and closed) when its alarm stays cleared this long */
      verifyAfterMinutes: minutes(1440),
    })
    .default({ autoOpen: [], sla: slaDefaults, verifyAfterMinutes: 1440 }),
  maintenance: z
    .strictObject({
      /** when the risk round opens a ticket (fleet/maintenance/risk.ts, TicketRule) */
      ticket: z
        .strictObject({
          threshold: z.number().positive().max(100).default(DEFAULT_TICKET_RULE.threshold),
          days: z.number().int().min(1).max(14).default(DEFAULT_TICKET_RULE.days),
          etaDays: z.number().nonnegative().max(60).default(DEFAULT_TICKET_RULE.etaDays),
          warmth: z.number().positive().max(100).default(DEFAULT_TICKET_RULE.warmth),
          load: z.number().positive().max(10).default(DEFAULT_TICKET_RULE.load),
          chance: z.number().positive().max(1).default(DEFAULT_TICKET_RULE.chance),
          urgentWarmth: z.number().positive().max(100).default(DEFAULT_TICKET_RULE.urgentWarmth),
        })
        .default(DEFAULT_TICKET_RULE),
    })
    .default({ ticket: DEFAULT_TICKET_RULE }),
  retention: z
    .strictObject({
      rawHealthDays: z.number().positive().default(30),
      invalidMessagesDays: z.number().positive().default(30),
      auditDays: z.number().positive().default(400),
    })
    .default({ rawHealthDays: 30, invalidMessagesDays: 30, auditDays: 400 }),
});

export type FleetConfig = z.infer<typeof fleetConfigSchema>;
export type FleetConfigInput = z.input<typeof fleetConfigSchema>;
export type Priority = z.infer<typeof priority>;

export class FleetConfigError extends Error {
  readonly code = 'TRELLIS_FLEET_E_CONFIG';
}

/** Validates a config object; relative paths resolve against `baseDir`. Errors name the source and the key. */
export function fleetConfig(input: unknown, source = '<config>', baseDir = process.cwd()): FleetConfig {
  const result = fleetConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new FleetConfigError(lines.join('\n'));
  }
  const c = result.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  if ('embedded' in c.broker && !c.broker.embedded.tls && !/^(127\.|::1$|localhost$)/.test(c.broker.embedded.host))
    throw new FleetConfigError(`${source}: broker.embedded.tls: plain MQTT is allowed on loopback only, not on ${c.broker.embedded.host}`);
  return Object.freeze({
    ...c,
    dataDir: abs(c.dataDir),
    broker:
      'url' in c.broker ? { ...c.broker, passwordFile: c.broker.passwordFile && abs(c.broker.passwordFile), ca: c.broker.ca && abs(c.broker.ca) } : c.broker,
  });
}

/** Reads a YAML config file (at most 1 MB). */
export function loadFleetConfig(file: string): FleetConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetConfigError(`${file}: cannot read the config file: ${(err as Error).message}`);
  }
  if (text.length > 1024 * 1024) throw new FleetConfigError(`${file}: the config file is over 1 MB`);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new FleetConfigError(doc.errors.map((e) => `${file}: not valid YAML: ${e.message}`).join('\n'));
  return fleetConfig(doc.toJS(), file, dirname(resolve(file)));
}
