import type { DeviceDefinition } from './registerMap.ts';

/**
 * Shipped register maps. Adding a device kind is adding a definition here (plus its golden test).
 * Addresses are 0-based PDU addresses as they go on the wire.
 */
export const DEFINITIONS: Readonly<Record<string, DeviceDefinition>> = {
  /** A single-phase energy meter (Eastron SDM-style layout: float32 input registers, high word first). */
  'energy-meter': {
    model: 'energy meter (SDM-style)',
    manufacturer: 'generic',
    points: [
      { attribute: 'voltage', table: 'input', address: 0x0000, type: 'float32', unit: 'V', deviceClass: 'voltage', stateClass: 'measurement' },
      { attribute: 'current', table: 'input', address: 0x0006, type: 'float32', unit: 'A', deviceClass: 'current', stateClass: 'measurement' },
      { attribute: 'power', table: 'input', address: 0x000c, type: 'float32', unit: 'W', deviceClass: 'power', stateClass: 'measurement' },
      { attribute: 'energy', table: 'input', address: 0x0010, type: 'float32', unit: 'kWh', deviceClass: 'energy', stateClass: 'total_increasing' },
    ],
  },
  /** A refrigeration controller (Dixell-style): tenths of a degree, status bits and alarm bits. */
  'fridge-controller': {
    model: 'refrigeration controller',
    manufacturer: 'generic',
    points: [
      {
        attribute: 'cabinet_temperature',
        table: 'input',
        address: 0x0100,
        type: 'int16',
        scale: 0.1,
        unit: '°C',
        deviceClass: 'temperature',
        stateClass: 'measurement',
      },
      { attribute: 'high_temperature_alarm', table: 'input', address: 0x0101, type: 'uint16', bit: 0, deviceClass: 'problem' },
      { attribute: 'low_temperature_alarm', table: 'input', address: 0x0101, type: 'uint16', bit: 1, deviceClass: 'problem' },
      { attribute: 'door_alarm', table: 'input', address: 0x0101, type: 'uint16', bit: 2, deviceClass: 'problem' },
      { attribute: 'setpoint', table: 'holding', address: 0x0200, type: 'int16', scale: 0.1, unit: '°C', writable: true, min: -30, max: 15 },
      { attribute: 'compressor', table: 'discrete', address: 0x0000, type: 'bool', deviceClass: 'running' },
      { attribute: 'defrost', table: 'discrete', address: 0x0001, type: 'bool' },
    ],
  },
  /** A coffee machine's service port: a 32-bit cups counter (low word first), boiler temperature. */
  'coffee-controller': {
    model: 'coffee machine controller',
    manufacturer: 'generic',
    points: [
      { attribute: 'cups', table: 'input', address: 0x0000, type: 'uint32', wordOrder: 'little', unit: 'cups', stateClass: 'total_increasing' },
      {
        attribute: 'boiler_temperature',
        table: 'input',
        address: 0x0002,
        type: 'int16',
        scale: 0.1,
        unit: '°C',
        deviceClass: 'temperature',
        stateClass: 'measurement',
      },
      { attribute: 'descale_needed', table: 'discrete', address: 0x0000, type: 'bool', deviceClass: 'problem' },
      { attribute: 'descale', table: 'coil', address: 0x0000, type: 'bool', writable: true },
    ],
  },
};
