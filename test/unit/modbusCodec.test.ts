import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crcOk, decodeResponse, encodeRequest, expectedLength, ModbusFrameError, type ModbusRequest } from '../../drivers/serial/modbusCodec.ts';
import { decodeBlock, encodeWrite, readBlocks } from '../../drivers/serial/registerMap.ts';
import { DEFINITIONS } from '../../drivers/serial/definitions.ts';
import { crc16, frame } from '../../firmware-sim/serial/rtuSlave.ts';

interface Vector {
  name: string;
  request: ModbusRequest;
  requestHex: string;
  responseHex: string;
  decoded: unknown;
}
const vectors = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'modbus-rtu.json'), 'utf8')) as { cases: Vector[] }).cases;
const bytes = (hex: string) => Buffer.from(hex.replace(/ /g, ''), 'hex');

describe('Modbus RTU golden vectors (both sides)', () => {
  it('the spec example request carries the CRC 76 87', () => {
    expect(vectors[0]?.requestHex).toBe('11 03 00 6B 00 03 76 87');
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    // the gateway encodes the request byte for byte, and decodes the response
    expect(encodeRequest(v.request)).toEqual(bytes(v.requestHex));
    const response = bytes(v.responseHex);
    expect(expectedLength(v.request, response.subarray(0, 3))).toBe(response.length);
    expect(decodeResponse(v.request, response)).toEqual(v.decoded);
    // the simulated firmware's own CRC agrees on both frames
    for (const f of [bytes(v.requestHex), response]) {
      expect(frame([...f.subarray(0, f.length - 2)])).toEqual(f);
      expect(crcOk(f)).toBe(true);
    }
  });

  it('rejects a bad CRC, a reply from another unit, and a wrong byte count', () => {
    const v = vectors[0] as Vector;
    const bad = bytes(v.responseHex);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    expect(() => decodeResponse(v.request, bad)).toThrow(ModbusFrameError);
    const other = frame([18, 3, 6, 0, 1, 0, 2, 0, 3]);
    expect(() => decodeResponse(v.request, other)).toThrow(/reply from unit 18/);
    const short = frame([17, 3, 4, 0, 1, 0, 2]);
    expect(() => decodeResponse(v.request, short)).toThrow(/byte count 4, expected 6/);
    expect(crc16(Uint8Array.from([]))).toBe(0xffff);
  });
});

describe('register maps', () => {
  it('decodes int16 with scale and sign, bits, uint32 low word first, float32 high word first', () => {
    const fridge = readBlocks(DEFINITIONS['fridge-controller'] as never).find((b) => b.table === 'input');
    expect(decodeBlock(fridge as never, [0xffe7, 0b101], undefined)).toEqual([
      ['cabinet_temperature', -2.5],
      ['high_temperature_alarm', true],
      ['low_temperature_alarm', false],
      ['door_alarm', true],
    ]);
    const coffee = readBlocks(DEFINITIONS['coffee-controller'] as never).find((b) => b.table === 'input');
    expect(decodeBlock(coffee as never, [0x1170, 0x0001, 1195], undefined)).toEqual([
      ['cups', 70_000],
      ['boiler_temperature', 119.5],
    ]);
    const meter = readBlocks(DEFINITIONS['energy-meter'] as never)[0];
    const regs = new Array<number>(0x12).fill(0);
    regs[0] = 0x4366; // 230.0f = 0x43660000
    expect(decodeBlock(meter as never, regs, undefined)[0]).toEqual(['voltage', 230]);
  });

  it('encodes writes: FC06 for 16-bit registers (scaled), FC05 for coils, refuses read-only points', () => {
    const fridge = DEFINITIONS['fridge-controller'] as NonNullable<(typeof DEFINITIONS)[string]>;
    const setpoint = fridge.points.find((p) => p.attribute === 'setpoint');
    expect(encodeWrite(5, setpoint as never, -2.5)).toEqual({ unit: 5, fc: 6, address: 0x200, value: 0xffe7 });
    const coffee = DEFINITIONS['coffee-controller'] as NonNullable<(typeof DEFINITIONS)[string]>;
    expect(encodeWrite(3, coffee.points.find((p) => p.attribute === 'descale') as never, true)).toEqual({ unit: 3, fc: 5, address: 0, value: true });
    expect(encodeWrite(3, coffee.points.find((p) => p.attribute === 'cups') as never, 1)).toBe('cups is read-only');
  });
});
