/**
 * "Add a device": for each kind of firmware, the credential it needs (its user name and the topics it
 * owns) and the exact settings to paste, with this gateway's address filled in. Pure.
 */
export const FIRMWARES = ['esphome', 'tasmota', 'zigbee2mqtt', 'mqtt', 'modbus', 'ble'] as const;
export type Firmware = (typeof FIRMWARES)[number];

export interface Broker {
  readonly host: string;
  readonly port: number;
  /** the TLS listener, when there is one */
  readonly tls?: { readonly port: number; readonly caUrl: string; readonly caFingerprint: string | undefined } | undefined;
}

export interface Setup {
  /** the MQTT user name (undefined: no credential, e.g. a Modbus device in the config file) */
  readonly username: string | undefined;
  readonly topics: readonly string[];
  /** what to paste where, in order */
  readonly steps: ReadonlyArray<{ readonly title: string; readonly text: string }>;
}

/** The user name a firmware's credential gets: its own (zigbee2mqtt's bridge) or the name given. */
export function usernameFor(firmware: Firmware, name: string | undefined): string | undefined {
  if (firmware === 'zigbee2mqtt') return 'zigbee2mqtt';
  if (firmware === 'modbus' || firmware === 'ble') return undefined;
  return name;
}

export function setupFor(
  firmware: Firmware,
  username: string | undefined,
  password: string | undefined,
  b: Broker,
  o: { bleScan: boolean; definitions: readonly string[] },
): Setup {
  const u = username ?? '';
  const p = password ?? '';
  const tlsNote = b.tls
    ? [
        {
          title: 'Over TLS (optional)',
          text: `Port ${b.tls.port}; trust the gateway's CA from ${b.tls.caUrl}${b.tls.caFingerprint ? ` (SHA-256 ${b.tls.caFingerprint})` : ''}.`,
        },
      ]
    : [];
  switch (firmware) {
    case 'esphome':
      return {
        username,
        topics: [`${u}/#`, `trellis/${u}/#`],
        steps: [
          {
            title: "Add to the device's YAML in ESPHome (then install it)",
            text: `mqtt:\n  broker: ${b.host}\n  port: ${b.port}\n  username: ${u}\n  password: ${p}\n  topic_prefix: ${u}\n  discovery: true`,
          },
          ...tlsNote,
        ],
      };
    case 'tasmota':
      return {
        username,
        topics: [`+/${u}/#`, `${u}/#`],
        steps: [
          {
            title: 'Paste into the Tasmota console (Tools > Console)',
            text: `Backlog MqttHost ${b.host}; MqttPort ${b.port}; MqttUser ${u}; MqttPassword ${p}; Topic ${u}; SetOption19 0`,
          },
          ...tlsNote,
        ],
      };
    case 'zigbee2mqtt':
      return {
        username,
        topics: ['zigbee2mqtt/#'],
        steps: [
          {
            title: "In Zigbee2MQTT's configuration.yaml (then restart it)",
            text: `homeassistant:\n  enabled: true\nmqtt:\n  server: mqtt://${b.host}:${b.port}\n  user: zigbee2mqtt\n  password: ${p}`,
          },
          ...tlsNote,
        ],
      };
    case 'mqtt':
      return {
        username,
        topics: [`${u}/#`, `trellis/${u}/#`],
        steps: [
          { title: 'Broker settings', text: `host: ${b.host}\nport: ${b.port}\nusername: ${u}\npassword: ${p}` },
          {
            title: 'Then, either',
            text: `publish Home Assistant discovery configs (retained) to homeassistant/<component>/${u}/<object>/config with topics under ${u}/,\nor your readings as JSON to trellis/${u}/state, e.g. {"temperature": 21.5}`,
          },
          ...tlsNote,
        ],
      };
    case 'modbus':
      return {
        username: undefined,
        topics: [],
        steps: [
          {
            title: 'Add to trellis.yaml (then restart the gateway); `npx trellis serial list` shows the ports',
            text: `serial:\n  - path: /dev/ttyUSB0\n    baudRate: 9600\n    devices:\n      - {id: shop-energy-meter, name: Shop energy meter, unit: 1, definition: ${o.definitions[0] ?? 'energy-meter'}}\n# definitions: ${o.definitions.join(', ')}`,
          },
        ],
      };
    case 'ble':
      return {
        username: undefined,
        topics: [],
        steps: o.bleScan
          ? [
              {
                title: 'Bring the sensor close and wake it',
                text: 'It appears under "Bluetooth devices nearby" on the home page: add it there with a name (and its bind key if it is encrypted).',
              },
            ]
          : [
              {
                title: 'Turn on Bluetooth scanning in trellis.yaml (then restart the gateway)',
                text: 'ble:\n  scan: true',
              },
              { title: 'Then', text: 'Bring the sensor close and wake it: it appears under "Bluetooth devices nearby" on the home page.' },
            ],
      };
  }
}
