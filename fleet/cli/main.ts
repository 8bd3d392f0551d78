import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { pino } from 'pino';
import { listAlarms } from '../alarms.ts';
import { addBrokerAccount } from '../broker/embedded.ts';
import { type FleetConfig, fleetConfig, loadFleetConfig } from '../config.ts';
import type { FleetDb } from '../db/fleetDb.ts';
import { migrate } from '../db/migrations.ts';
import { listSites } from '../inventory.ts';
import { People, ROLES, type Role } from '../people.ts';
import { openFleetDb, startFleet } from '../start.ts';
import { listTickets, TICKET_STATES, type TicketState } from '../tickets.ts';
import { MONTH, monthlyUsage, usageCsv } from '../usage.ts';
import { runDemo } from './demo.ts';
import { table } from './table.ts';

/** The config: -c, then $TRELLIS_FLEET_CONFIG, then ./trellis-fleet.yaml, else the embedded defaults. */
function config(file: string | undefined): FleetConfig {
  const chosen = file || process.env.TRELLIS_FLEET_CONFIG || (existsSync('trellis-fleet.yaml') ? 'trellis-fleet.yaml' : undefined);
  return chosen ? loadFleetConfig(chosen) : fleetConfig({});
}

/** Runs a one-shot command on the database (migrated first), and closes it. */
async function withDb<T>(file: string | undefined, fn: (db: FleetDb, c: FleetConfig) => Promise<T>): Promise<T> {
  const c = config(file);
  const db = await openFleetDb(c);
  try {
    await migrate(db);
    return await fn(db, c);
  } finally {
    await db.close();
  }
}

const out = (text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

/** A password from a file (- for stdin) or $TRELLIS_FLEET_PASSWORD; undefined when neither is given. */
function readSecret(file: string | undefined): string | undefined {
  if (file) return readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  return process.env.TRELLIS_FLEET_PASSWORD || undefined;
}

export function buildProgram(): Command {
  const program = new Command('trellis-fleet')
    .description("Trellis Fleet: a service provider's end of its gateways' streams")
    .showHelpAfterError()
    .exitOverride();
  const withConfig = (c: Command) => c.option('-c, --config <file>', 'config file (default: $TRELLIS_FLEET_CONFIG, then ./trellis-fleet.yaml)');

  withConfig(
    program.command('start').description('run the fleet service (with no config: PGlite in ./fleet-data, an embedded broker, the API on loopback)'),
  ).action(async (o: { config?: string }) => {
    const c = config(o.config);
    const log = pino({ level: process.env.TRELLIS_FLEET_LOG ?? 'info', base: { app: 'trellis-fleet' } });
    const fleet = await startFleet(c, log);
    out(
      `Trellis Fleet ${c.provider}: API ${fleet.apiUrl} (the console at ${fleet.apiUrl}/, OpenAPI at ${fleet.apiUrl}/api/openapi.json), ${fleet.db.engine} database`,
    );
    if (fleet.brokerUrl)
      out(`Gateways connect to ${fleet.brokerUrl} (trust ${fleet.brokerCa ?? 'no TLS'}); add one with: trellis-fleet gateway add <gatewayId>`);
    if (fleet.firstAdminPassword) out(`First start: user "admin", password ${fleet.firstAdminPassword} (shown once; add people with trellis-fleet user add)`);
    let stopping = false;
    const end = () => {
      if (stopping) return;
      stopping = true;
      fleet.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', end);
    process.once('SIGTERM', end);
  });

  program
    .command('demo')
    .description("both ends on loopback: this fleet and the gateway's demo home and shop syncing into it")
    .option('--dir <dir>', 'where the demo keeps its data', 'trellis-fleet-demo-data')
    .option('--api-port <port>', 'the API port', (v) => Number(v), 8480)
    .option('--broker-port <port>', "the embedded broker's port", (v) => Number(v), 18883)
    .option('--speed <n>', 'how many times faster than real time the demo replays its first hours (2-120)', (v) => Number(v), 12)
    .action((o: { dir: string; apiPort: number; brokerPort: number; speed: number }) => {
      if (!(o.speed > 1 && o.speed <= 120)) throw new Error(`--speed: expected a number above 1 and at most 120, not ${o.speed}`);
      return runDemo(o);
    });

  withConfig(program.command('check-config').description('validate the config and print the effective settings')).action((o: { config?: string }) => {
    out(`OK\n${JSON.stringify(config(o.config), null, 2)}`);
  });

  const user = program.command('user').description('people of the fleet');
  withConfig(
    user
      .command('add')
      .argument('<name>')
      .requiredOption('--role <role>', ROLES.join(', '))
      .option('--password-file <file>', 'read the password from a file (- for stdin; default $TRELLIS_FLEET_PASSWORD, else one is made and printed)')
      .description('add a person'),
  ).action(async (name: string, o: { config?: string; role: string; passwordFile?: string }) => {
    if (!(ROLES as readonly string[]).includes(o.role)) throw new Error(`--role: expected one of ${ROLES.join(', ')}, not ${o.role}`);
    const given = readSecret(o.passwordFile);
    const password = given ?? randomBytes(12).toString('base64url');
    const u = await withDb(o.config, (db) => new People(db).add(name, o.role as Role, password));
    out(`added ${u.role} "${u.name}"${given ? '' : `, password ${password} (shown once)`}`);
  });

  const gateway = program.command('gateway').description("gateways' accounts on the embedded broker");
  withConfig(
    gateway.command('add').argument('<gatewayId>').description("create (or renew) a gateway's broker account and print its password and cloud config"),
  ).action(async (id: string, o: { config?: string }) => {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(id)) throw new Error(`gatewayId "${id}": expected letters, digits, _ . : -`);
    const password = randomBytes(18).toString('base64url');
    const c = await withDb(o.config, async (db, c) => {
      await addBrokerAccount(db, id, password, Date.now());
      return c;
    });
    const file = `${id}.cloud-password`;
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const e = 'embedded' in c.broker ? c.broker.embedded : undefined;
    out(`gateway ${id}: password written to ${file}. In the gateway's trellis.yaml:`);
    out(
      `cloud:\n  url: ${e?.tls === false ? 'mqtt' : 'mqtts'}://<this host>:${e?.port ?? 8883}\n  username: ${id}\n  passwordFile: <path to ${file}>\n  ca: <copy of ${c.dataDir}/broker-tls/cert.pem>\n  protocol: 4\n` +
        `and grant this provider what the owner agrees to: trellis grant add --provider ${c.provider} --devices ... --classes ...`,
    );
  });

  const site = program.command('site').description('sites (gateways)');
  withConfig(site.command('list').option('--json', 'machine-readable').description('every site: online or not, devices, active alarms')).action(
    async (o: { config?: string; json?: boolean }) => {
      const rows = await withDb(o.config, (db) => listSites(db));
      out(o.json ? JSON.stringify(rows, null, 2) : table(rows, ['gatewayId', 'label', 'customer', 'state', 'devices', 'activeAlarms', 'outboxDepth']));
    },
  );

  const usage = program.command('usage').description('billing-grade usage');
  withConfig(
    usage
      .command('export')
      .requiredOption('--month <YYYY-MM>', "the month, in each site's local time")
      .option('-o, --out <file>', 'write the CSV here (default: stdout)')
      .description("a month's usage per site and device as CSV"),
  ).action(async (o: { config?: string; month: string; out?: string }) => {
    if (!MONTH.test(o.month)) throw new Error(`--month: expected YYYY-MM, not ${o.month}`);
    const csv = await withDb(o.config, async (db) => usageCsv(await monthlyUsage(db, o.month, Date.now())));
    if (o.out) writeFileSync(o.out, csv);
    else process.stdout.write(csv);
  });

  withConfig(program.command('alarms').option('--all', 'cleared ones too').option('--json', 'machine-readable').description('active alarms')).action(
    async (o: { config?: string; all?: boolean; json?: boolean }) => {
      const rows = await withDb(o.config, (db) => listAlarms(db, { state: o.all ? undefined : 'active' }));
      out(
        o.json ? JSON.stringify(rows, null, 2) : table(rows, ['id', 'gatewayId', 'deviceRef', 'code', 'severity', 'state', 'acknowledged', 'count', 'message']),
      );
    },
  );

  withConfig(
    program.command('tickets').option('--state <state>', TICKET_STATES.join(', ')).option('--json', 'machine-readable').description('maintenance tickets'),
  ).action(async (o: { config?: string; state?: string; json?: boolean }) => {
    if (o.state && !(TICKET_STATES as readonly string[]).includes(o.state)) throw new Error(`--state: expected one of ${TICKET_STATES.join(', ')}`);
    const rows = await withDb(o.config, (db) => listTickets(db, { state: o.state as TicketState | undefined }, Date.now()));
    out(o.json ? JSON.stringify(rows, null, 2) : table(rows, ['id', 'gatewayId', 'deviceRef', 'title', 'priority', 'state', 'assigneeId', 'resolveBreached']));
  });
  return program;
}

export async function run(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      process.exitCode = e.exitCode ?? 1;
      return;
    }
    process.stderr.write(`trellis-fleet: ${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
