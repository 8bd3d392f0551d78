import type { AttributeSpec, AttributeValue } from '../types.ts';
import type { ModbusRequest } from './modbusCodec.ts';

/**
 * Devices as data: a register map turns Modbus tables into typed attributes. A point is one attribute:
 * a coil / discrete input (boolean), one bit of a register (boolean), or a 16- or 32-bit register
 * value (int16, uint16, int32, uint32, float32) with word order and scale.
 */
export type Table = 'coil' | 'discrete' | 'holding' | 'input';
export type RegisterType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';

export interface RegisterPoint {
  readonly attribute: string;
  readonly table: Table;
  readonly address: number;
  readonly type: RegisterType;
  /** A boolean taken from one bit (0-15) of a register, e.g. alarm bits. */
  readonly bit?: number;
  /** 32-bit values: which register holds the high word (`big`: the first). */
  readonly wordOrder?: 'big' | 'little';
  /** value = raw * scale (e.g. 0.1 for tenths of a degree). */
  readonly scale?: number;
  readonly unit?: string;
  readonly deviceClass?: string;
  readonly stateClass?: string;
  readonly writable?: boolean;
  readonly min?: number;
  readonly max?: number;
}

export interface DeviceDefinition {
  readonly model: string;
  readonly manufacturer: string;
  readonly points: readonly RegisterPoint[];
}

/** How many registers (or bits) a point occupies. */
export function width(p: RegisterPoint): number {
  return p.type === 'int32' || p.type === 'uint32' || p.type === 'float32' ? 2 : 1;
}

export function attributeSpecs(def: DeviceDefinition): Record<string, AttributeSpec> {
  const specs: Record<string, AttributeSpec> = {};
  for (const p of def.points) {
    const bool = p.type === 'bool' || p.bit !== undefined;
    specs[p.attribute] = {
      type: bool ? 'boolean' : 'number',
      unit: p.unit,
      deviceClass: p.deviceClass,
      stateClass: p.stateClass,
      writable: p.writable ?? false,
      min: p.min,
      max: p.max,
    };
  }
  return specs;
}

/** One read request per table, spanning the table's points (maps are compact by design). */
export interface ReadBlock {
  readonly table: Table;
  readonly fc: 0x01 | 0x02 | 0x03 | 0x04;
  readonly address: number;
  readonly quantity: number;
  readonly points: readonly RegisterPoint[];
}

const READ_FC = { coil: 0x01, discrete: 0x02, holding: 0x03, input: 0x04 } as const;

export function readBlocks(def: DeviceDefinition): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  for (const table of ['coil', 'discrete', 'holding', 'input'] as const) {
    const points = def.points.filter((p) => p.table === table);
    if (points.length === 0) continue;
    const start = Math.min(...points.map((p) => p.address));
    const end = Math.max(...points.map((p) => p.address + width(p)));
    blocks.push({ table, fc: READ_FC[table], address: start, quantity: end - start, points });
  }
  return blocks;
}

/** Values of a block's points from the registers or bits read. */
export function decodeBlock(block: ReadBlock, registers: readonly number[] | undefined, bits: readonly boolean[] | undefined): Array<[string, AttributeValue]> {
  const out: Array<[string, AttributeValue]> = [];
  for (const p of block.points) {
    const at = p.address - block.address;
    if (block.table === 'coil' || block.table === 'discrete') {
      out.push([p.attribute, bits?.[at] === true]);
      continue;
    }
    const hi = registers?.[at] ?? 0;
    if (p.bit !== undefined) {
      out.push([p.attribute, ((hi >> p.bit) & 1) === 1]);
      continue;
    }
    const lo = registers?.[at + 1] ?? 0;
    const [w0, w1] = p.wordOrder === 'little' ? [lo, hi] : [hi, lo];
    let raw: number;
    switch (p.type) {
      case 'int16':
        raw = hi >= 0x8000 ? hi - 0x10000 : hi;
        break;
      case 'uint16':
        raw = hi;
        break;
      case 'int32':
        raw = ((w0 << 16) | w1) >> 0;
        break;
      case 'uint32':
        raw = w0 * 0x10000 + w1;
        break;
      case 'float32': {
        const b = Buffer.alloc(4);
        b.writeUInt16BE(w0, 0);
        b.writeUInt16BE(w1, 2);
        raw = b.readFloatBE(0);
        break;
      }
      default:
        raw = hi;
    }
    const v = p.scale ? raw * p.scale : raw;
    out.push([p.attribute, Math.round(v * 1e6) / 1e6]);
  }
  return out;
}

/** The write request that sets a point, or an error message. */
export function encodeWrite(unit: number, p: RegisterPoint, value: AttributeValue): ModbusRequest | string {
  if (!p.writable) return `${p.attribute} is read-only`;
  if (p.table === 'coil') return typeof value === 'boolean' ? { unit, fc: 0x05, address: p.address, value } : `${p.attribute} takes true or false`;
  if (p.table !== 'holding' || p.bit !== undefined) return `${p.attribute} cannot be written`;
  if (typeof value !== 'number') return `${p.attribute} takes a number`;
  const raw = Math.round(p.scale ? value / p.scale : value);
  if (p.type === 'int16' || p.type === 'uint16') return { unit, fc: 0x06, address: p.address, value: raw & 0xffff };
  const b = Buffer.alloc(4);
  if (p.type === 'float32') b.writeFloatBE(p.scale ? value / p.scale : value, 0);
  else b.writeUInt32BE(raw >>> 0, 0);
  const words = [b.readUInt16BE(0), b.readUInt16BE(2)];
  return { unit, fc: 0x10, address: p.address, values: p.wordOrder === 'little' ? words.reverse() : words };
}
