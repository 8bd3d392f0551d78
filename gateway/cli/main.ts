import { Command } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import { runCheckRules } from './checkRules.ts';
import { runSerialList } from './serialList.ts';
import { runDeviceAdd, runDeviceList } from './deviceCommands.ts';
import { reportError, runStart } from './start.ts';

/** Builds the `trellis` command line; `run` parses argv and executes. */
export function buildProgram(): Command {
  const program = new Command('trellis')
    .description('Trellis: an IoT edge gateway for smart homes and shops')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description('run the gateway (with no config file: a demo home and shop on loopback)')
    .option('-c, --config <file>', 'config file (default: $TRELLIS_CONFIG, then ./trellis.yaml)')
    .action((opts: { config?: string }) => runStart(opts));

  program
    .command('check-config')
    .argument('<file>', 'config file to check')
    .description('validate a config file and print the effective settings')
    .action((file: string) => {
      const { config, source } = loadConfigFile(file);
      process.stdout.write(`${source}: OK\n${JSON.stringify(config, null, 2)}\n`);
    });

  program
    .command('check-rules')
    .argument('<file>', 'rule file to check')
    .description('check a rule file against the known devices (as the gateway does before activating it)')
    .option('-c, --config <file>', 'config file (for the device database, time zone and tariffs)')
    .action((file: string, opts: { config?: string }) => runCheckRules(file, opts));

  program
    .command('serial')
    .description('serial ports')
    .command('list')
    .description('list the serial ports this system has')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => runSerialList(opts));

  const device = program.command('device').description('device credentials and state');
  device
    .command('add')
    .argument('<name>', 'device name: its MQTT user name and topic prefix')
    .description('create a device credential and print its password (once)')
    .option('-c, --config <file>', 'config file')
    .option('-t, --topic <filter...>', 'MQTT topic filters the device owns (default: NAME/# and trellis/NAME/#)')
    .option('--rotate', 'issue a new password for an existing device')
    .action((name: string, opts: { config?: string; topic?: string[]; rotate?: boolean }) => runDeviceAdd(name, opts));
  device
    .command('list')
    .description('list devices, online/offline and the last value of each attribute')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action((opts: { config?: string; json?: boolean }) => runDeviceList(opts));

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
    process.exitCode = reportError(err);
  }
}
