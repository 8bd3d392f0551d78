import { Command } from 'commander';

/**
 * Builds the `trellis` command line; `run` parses argv and executes. Each command's module is imported
 * when that command runs, so `trellis start` loads neither the CLI's other commands nor what they use
 * (the LAN server for `pair`, serialport, the export's zip and CSV writers): part of the cold start.
 */
export function buildProgram(): Command {
  const program = new Command('trellis').description('Trellis: an IoT edge gateway for smart homes and shops').showHelpAfterError().exitOverride();

  program
    .command('start')
    .description('run the gateway (with no config file: a demo home and shop on loopback)')
    .option('-c, --config <file>', 'config file (default: $TRELLIS_CONFIG, then ./trellis.yaml)')
    .action(async (opts: { config?: string }) => (await import('./start.ts')).runStart(opts));

  program
    .command('pair')
    .description('print a new one-time pairing code for a phone (valid 24 hours; by default it makes an owner)')
    .option('-c, --config <file>', 'config file')
    .option('--role <role>', 'owner, member or guest', 'owner')
    .action(async (opts: { config?: string; role?: string }) => (await import('./pairCommand.ts')).runPair(opts));

  program
    .command('check-config')
    .argument('<file>', 'config file to check')
    .description('validate a config file and print the effective settings')
    .action(async (file: string) => {
      const { loadConfigFile } = await import('../config/load.ts');
      const { config, source } = loadConfigFile(file);
      process.stdout.write(`${source}: OK\n${JSON.stringify(config, null, 2)}\n`);
    });

  program
    .command('check-rules')
    .argument('<file>', 'rule file to check')
    .description('check a rule file against the known devices (as the gateway does before activating it)')
    .option('-c, --config <file>', 'config file (for the device database, time zone and tariffs)')
    .action(async (file: string, opts: { config?: string }) => (await import('./checkRules.ts')).runCheckRules(file, opts));

  program
    .command('serial')
    .description('serial ports')
    .command('list')
    .description('list the serial ports this system has')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => (await import('./serialList.ts')).runSerialList(opts));

  const device = program.command('device').description('device credentials and state');
  device
    .command('add')
    .argument('<name>', 'device name: its MQTT user name and topic prefix')
    .description('create a device credential and print its password (once)')
    .option('-c, --config <file>', 'config file')
    .option('-t, --topic <filter...>', 'MQTT topic filters the device owns (default: NAME/# and trellis/NAME/#)')
    .option('--rotate', 'issue a new password for an existing device')
    .option(
      '--client-id <id...>',
      'MQTT client ids reserved for this device: it may use only these, nobody else may (default: each id it uses becomes its own)',
    )
    .action(async (name: string, opts: { config?: string; topic?: string[]; rotate?: boolean; clientId?: string[] }) =>
      (await import('./deviceCommands.ts')).runDeviceAdd(name, opts),
    );
  device
    .command('list')
    .description('list devices, online/offline and the last value of each attribute')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; json?: boolean }) => (await import('./deviceCommands.ts')).runDeviceList(opts));

  const grant = program.command('grant').description('what each service provider may see and do (default: nothing)');
  grant
    .command('list')
    .description('list grants')
    .option('-c, --config <file>', 'config file')
    .option('--all', 'include revoked grants')
    .option('--json', 'machine-readable output')
    .action(async (opts: { config?: string; all?: boolean; json?: boolean }) => (await import('./privacyCommands.ts')).runGrantList(opts));
  grant
    .command('add')
    .description('grant a provider devices, data classes and remote commands')
    .requiredOption('--provider <id>', "the provider's cloud identity: broker username or certificate CN")
    .option('--name <name>', 'display name of the provider')
    .requiredOption('--devices <list>', 'device ids, tag:<tag> or *, comma-separated')
    .option('--classes <list>', 'usage, maintenance, health, telemetry, alerts (comma-separated)')
    .option('--commands <list>', 'attributes the provider may set remotely (comma-separated)')
    .option('--identity', 'show real device ids instead of pseudonyms')
    .option('--expires <date>', 'e.g. 2027-01-31')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: Parameters<typeof import('./privacyCommands.ts').runGrantAdd>[0]) => (await import('./privacyCommands.ts')).runGrantAdd(opts));
  grant
    .command('revoke')
    .argument('<id>', 'grant number (see grant list)')
    .description('revoke a grant now; its queued, unsent records are purged')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, opts: { config?: string }) => (await import('./privacyCommands.ts')).runGrantRevoke(id, opts));

  program
    .command('audit')
    .description('the audit log')
    .command('verify')
    .description("check the audit log's hash chain (exit 0 if intact, 1 with the first broken row)")
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => (await import('./privacyCommands.ts')).runAuditVerify(opts));

  program
    .command('export')
    .description('export all data about the household as a zip (JSON + CSV)')
    .requiredOption('--out <file>', 'where to write the zip')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string; out: string }) => (await import('./privacyCommands.ts')).runExport(opts));

  program
    .command('erase')
    .description('erase history and usage (all, one device, or before a date)')
    .option('--device <id>', 'only this device')
    .option('--before <date>', 'only data before this date')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string; device?: string; before?: string }) => (await import('./privacyCommands.ts')).runErase(opts));

  program
    .command('backup')
    .description('write one encrypted file with the config, rules, device credentials, people, grants and the audit log (the gateway may keep running)')
    .requiredOption('--out <file>', 'where to write the backup (never over an existing file)')
    .option('--passphrase-file <file>', 'the passphrase (default: backup.passphraseFile from the config)')
    .option('--history', 'put the raw readings and device events in too')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string; out: string; passphraseFile?: string; history?: boolean }) =>
      (await import('./backupCommands.ts')).runBackup(opts),
    );

  program
    .command('restore')
    .argument('<file>', 'a backup written by trellis backup')
    .description('bring a gateway back from a backup onto an empty data directory (a new SD card); nothing is changed if any check fails')
    .requiredOption('-c, --config <file>', "config file: used if it exists, else the backup's config is written there")
    .option('--passphrase-file <file>', 'the passphrase (default: backup.passphraseFile from the config)')
    .action(async (file: string, opts: { config: string; passphraseFile?: string }) => (await import('./backupCommands.ts')).runRestore(file, opts));

  program
    .command('factory-reset')
    .description('wipe the database, secrets and keys (stop the gateway first) and prove it')
    .option('--yes', 'really')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string; yes?: boolean }) => (await import('./privacyCommands.ts')).runFactoryReset(opts));

  return program;
}

export async function run(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = (err as { exitCode: number }).exitCode;
      return;
    }
    process.exitCode = (await import('./reportError.ts')).reportError(err);
  }
}
