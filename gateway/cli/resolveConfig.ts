import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { configFromObject, loadConfigFile, type LoadedConfig } from '../config/load.ts';

/** The settings used when Trellis starts with no config file at all: a demo on loopback. */
export const demoConfig = (cwd: string) => ({
  demo: true,
  dataDir: './trellis-demo-data',
  // devices may come in over TLS too (the gateway's own CA); a free port is taken if either is in use
  mqtt: { host: '127.0.0.1', port: 1883, tls: 'self-signed' as const, tlsPort: 8883 },
  lan: { host: '127.0.0.1' },
  rules: { file: './trellis-demo-data/rules.yaml' },
  // the demo shop's RS-485 bus: a simulated cable (socat) whose far end the demo's firmware answers
  serial: [
    {
      path: './trellis-demo-data/serial/shop-rs485-gw',
      devices: [
        { id: 'shop-fridge-controller', name: 'Walk-in cooler controller', unit: 1, definition: 'fridge-controller' as const },
        { id: 'shop-energy-meter', name: 'Shop energy meter', unit: 2, definition: 'energy-meter' as const },
      ],
    },
  ],
  // the demo home's Bluetooth sensors: a simulated BlueZ on a private D-Bus in the data directory
  ble: {
    dbusAddress: `unix:path=${resolve(cwd, 'trellis-demo-data', 'ble', 'system_bus_socket')}`,
    scanMs: 1000,
    // a garden thermometer nobody set up is heard too: the owner adopts it from the app
    scan: true,
    devices: [
      { address: 'A4:C1:38:5A:10:01', id: 'home-climate', name: 'Bedroom thermometer (BTHome)', profile: 'bthome' },
      { address: 'A4:C1:38:5A:10:02', id: 'home-hall-button', name: 'Hall door sensor and button (BTHome)', profile: 'bthome' },
      { address: 'C0:FF:EE:5A:10:03', id: 'home-fridge-logger', name: 'Kitchen fridge logger (GATT)', profile: 'fridge-logger' },
    ],
  },
});

export interface ResolvedConfig extends LoadedConfig {
  /** True when no config file was found and the demo preset is in use. */
  readonly preset: boolean;
}

/**
 * Which config to use: `--config FILE`, else `$TRELLIS_CONFIG`, else `./trellis.yaml` if it exists,
 * else the demo preset.
 */
export function resolveConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ResolvedConfig {
  const named = file ?? env.TRELLIS_CONFIG;
  if (named) return { ...loadConfigFile(resolve(cwd, named)), preset: false };
  const local = resolve(cwd, 'trellis.yaml');
  if (existsSync(local)) return { ...loadConfigFile(local), preset: false };
  return { ...configFromObject(demoConfig(cwd), cwd), preset: true };
}
