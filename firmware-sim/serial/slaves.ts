import type { SlaveMemory } from './rtuSlave.ts';

/**
 * Simulated serial device firmware, laid out as their (fictional) manuals say, independently of the
 * gateway's register maps: the contract tests show both agree.
 */
export interface SimSlave {
  readonly memory: SlaveMemory;
  /** Advances behaviour by `dtMs`. */
  step(dtMs: number): void;
}

function floatWords(v: number): [number, number] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v, 0);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

const memory = (): SlaveMemory => ({ coils: new Map(), discrete: new Map(), holding: new Map(), input: new Map() });

/** Energy meter: IEEE-754 floats, high word first: V at 30001, A at 30007, W at 30013, kWh at 30017. */
export function energyMeter(): SimSlave {
  const m = memory();
  let energy = 1234.5;
  const put = (address: number, v: number) => {
    const [hi, lo] = floatWords(v);
    m.input.set(address, hi);
    m.input.set(address + 1, lo);
  };
  for (let a = 0; a < 0x12; a++) m.input.set(a, 0);
  const step = (dtMs: number) => {
    const volts = 230 + Math.sin(Date.now() / 60_000) * 2;
    const amps = 4.2;
    energy += (volts * amps * dtMs) / 3_600_000 / 1000;
    put(0x0000, volts);
    put(0x0006, amps);
    put(0x000c, volts * amps);
    put(0x0010, energy);
  };
  step(0);
  return { memory: m, step };
}

/**
 * Refrigeration controller: cabinet temperature in tenths (input 0x0100, signed), alarm bits (input
 * 0x0101: bit 0 high temperature, bit 1 low, bit 2 door), setpoint in tenths (holding 0x0200),
 * compressor and defrost (discrete inputs 0 and 1).
 */
export function fridgeController(): SimSlave {
  const m = memory();
  let temp = 5.0;
  m.holding.set(0x0200, 40); // 4.0 °C
  m.input.set(0x0100, 50);
  m.input.set(0x0101, 0);
  m.discrete.set(0x0000, false);
  m.discrete.set(0x0001, false);
  const step = (dtMs: number) => {
    const setpoint = (((m.holding.get(0x0200) ?? 0) << 16) >> 16) / 10;
    let compressor = m.discrete.get(0x0000) === true;
    if (temp > setpoint + 1) compressor = true;
    else if (temp < setpoint - 1) compressor = false;
    temp += ((compressor ? -0.3 : 0.05) * dtMs) / 60_000;
    m.discrete.set(0x0000, compressor);
    m.input.set(0x0100, Math.round(temp * 10) & 0xffff);
    m.input.set(0x0101, temp > 10 ? 1 : temp < -30 ? 2 : 0);
  };
  return { memory: m, step };
}

/** Coffee machine service port: cups as uint32 low word first (input 0-1), boiler tenths (input 2), descale flag (discrete 0), descale coil (0). */
export function coffeeController(): SimSlave {
  const m = memory();
  let cups = 70_000; // above 65,535: the high word matters
  m.input.set(0x0002, 1195);
  m.discrete.set(0x0000, true);
  m.coils.set(0x0000, false);
  m.onWrite = (table, address) => {
    if (table === 'coil' && address === 0 && m.coils.get(0)) m.discrete.set(0x0000, false); // descaling clears the flag
  };
  const step = (dtMs: number) => {
    if (Math.random() < dtMs / 30_000) cups++;
    m.input.set(0x0000, cups & 0xffff);
    m.input.set(0x0001, Math.floor(cups / 0x10000));
  };
  step(0);
  return { memory: m, step };
}

export const SIM_SLAVES = { 'energy-meter': energyMeter, 'fridge-controller': fridgeController, 'coffee-controller': coffeeController } as const;
