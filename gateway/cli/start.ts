import { catchUpClock, type Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import { Gateway, type RunningGateway } from '../gateway.ts';
import { createLogger } from '../log.ts';
import { hourStart, localLabel } from '../metering/hours.ts';
import { resolveConfig } from './resolveConfig.ts';

/** `trellis start`: runs the gateway (and the demo fleet when configured) until SIGINT/SIGTERM. */
export async function runStart(options: { config?: string }): Promise<void> {
  const resolved = resolveConfig(options.config);
  const logger = createLogger(resolved.config.log.level, undefined, resolved.config.log.format);
  let config: Readonly<Config> = resolved.config;
  // Demo hardware first (the simulated serial bus and BlueZ), so the gateway finds it at start.
  let stopSerial: (() => Promise<void>) | undefined;
  let stopBle: (() => Promise<void>) | undefined;
  if (config.demo) {
    const { startDemoSerial } = await import('../demo/demoSerial.ts');
    const { startDemoBle } = await import('../demo/demoBle.ts');
    stopSerial = await startDemoSerial(config).catch((err: Error) => {
      logger.warn({ err: err.message }, 'the demo serial bus is skipped');
      return undefined;
    });
    stopBle = await startDemoBle(config).catch((err: Error) => {
      logger.warn({ err: err.message }, 'the demo Bluetooth devices are skipped');
      return undefined;
    });
  }
  let gateway: Gateway | undefined;
  let fleet: { stop(): Promise<void> } | undefined; // the demo's simulated devices
  // Handlers go in before anything starts, so a stop during start-up still releases everything
  // (Gateway.stop waits for a start in progress).
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (async () => {
      await fleet?.stop();
      await gateway?.stop();
      await stopSerial?.();
      await stopBle?.();
      logger.flush();
      process.exit(0);
    })();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  const clock = demoClock(config);
  gateway = new Gateway({ config, logger, clock, configFile: resolved.source });
  let running: RunningGateway;
  try {
    running = await gateway.start();
  } catch (err) {
    // The no-config demo must start even where port 1883 is taken (e.g. a local mosquitto).
    if (!resolved.preset || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    logger.warn({ mqttPort: config.mqtt.port, lanPort: config.lan.port }, 'port in use; the demo takes free ports instead');
    config = { ...config, mqtt: { ...config.mqtt, port: 0, tlsPort: 0 }, lan: { ...config.lan, port: 0 } };
    gateway = new Gateway({ config, logger, clock, configFile: resolved.source });
    running = await gateway.start();
  }
  if (config.demo) {
    // Loaded only for the demo: the simulated devices' MQTT client library costs ~20 MB of RSS.
    const { startDemo } = await import('../demo/demo.ts');
    fleet = await startDemo(running, config.rules.file, { speed: config.demoClock?.speed });
  }
  process.stderr.write(banner(config, running, resolved.source, fleet !== undefined));
  // The pairing code is shown on an interactive terminal (and in the loopback-only demo), never in a
  // log: under systemd, stderr is the journal; there `trellis pair` prints a code instead.
  if (running.lan?.pairUrl && (process.stderr.isTTY || config.demo))
    process.stderr.write(await pairingText(running.lan.pairUrl, running.lan.pairingCode ?? ''));
  else if (running.lan?.pairingCode)
    process.stderr.write(`\nNot paired yet: run \`trellis pair${cfgArgOf(resolved.source)}\` for a pairing code (valid 24 hours).\n`);
}

/**
 * The demo's catch-up clock, when configured: from `replayHours` ago (not before the local month's
 * start in the gateway's time zone, so the month's usage is all in the month) at `speed` until it reaches now.
 */
function demoClock(config: Readonly<Config>): Clock | undefined {
  if (!config.demo || !config.demoClock) return undefined;
  const now = Date.now();
  const label = localLabel(now, config.timezone); // 2026-12-01T15:00+01:00
  const monthStart = hourStart(now, config.timezone) - (Number(label.slice(8, 10)) - 1) * 86_400_000 - Number(label.slice(11, 13)) * 3_600_000;
  return catchUpClock(config.demoClock.speed, Math.min(config.demoClock.replayHours * 3_600_000, now - monthStart), now);
}

const cfgArgOf = (source: string | undefined) => (source ? ` --config ${source}` : '');

function banner(config: Readonly<Config>, running: RunningGateway, source: string | undefined, demo: boolean): string {
  const { host, port } = running.mqttAddress;
  const cfgArg = cfgArgOf(source);
  const lines = [
    '',
    `Trellis gateway "${config.gatewayId}" is running.`,
    `  config:       ${source ?? 'none found: built-in demo settings (loopback only)'}`,
    `  data:         ${config.dataDir}`,
    ...(config.mqtt.plain
      ? [`  MQTT broker:  mqtt://${host}:${port}  (devices log in with their own credential${config.mqtt.allowAnonymous ? '; anonymous allowed' : ''})`]
      : []),
    ...(running.mqttTls
      ? [
          `  MQTT TLS:     mqtts://${running.mqttTls.host}:${running.mqttTls.port}  (certificate SHA-256 ${running.mqttTls.fingerprint}${running.mqttTls.caFingerprint ? `; gateway CA SHA-256 ${running.mqttTls.caFingerprint}` : ''})`,
        ]
      : []),
    `  phone UI:     ${running.lan ? running.lan.url : 'off (lan.enabled: false)'}${running.lan?.fingerprint ? `  (self-signed certificate, SHA-256 ${running.lan.fingerprint})` : ''}`,
  ];
  if (demo) {
    lines.push(
      '',
      'Demo: a home (thermostat, heat-pump plug, front door, lamp) and a shop (two espresso machines,',
      'two fridges, a sign plug, a back door, a buzzer) of simulated devices report every 5 s (1 simulated minute);',
      'a walk-in cooler controller and an energy meter answer Modbus RTU on a simulated RS-485 line;',
      'a BTHome thermometer, a BTHome door sensor with a button and a GATT fridge logger speak Bluetooth LE',
      'through a simulated BlueZ.',
      `Sample rules (fridge door alarm, descale reminder, evening lamp, ...): ${config.rules.file}`,
    );
  }
  lines.push(
    '',
    'Next:',
    `  npx trellis device list${cfgArg}          devices, online/offline and last values`,
    `  npx trellis device add NAME${cfgArg}      a credential for a real device (password shown once)`,
    '  Ctrl-C stops the gateway.',
    '',
  );
  return lines.join('\n');
}

/** The pairing instructions, with the pairing link as a QR code for the phone's camera. */
export async function pairingText(url: string, code: string): Promise<string> {
  const { default: qrcode } = await import('qrcode-terminal');
  const qr = await new Promise<string>((resolve) => qrcode.generate(url, { small: true }, resolve));
  return [
    '',
    'Pair your phone (valid 24 hours; `trellis pair` prints a new code):',
    `  open ${url}`,
    `  or enter the code ${code} on the pairing page`,
    '',
    qr,
    '',
  ].join('\n');
}
