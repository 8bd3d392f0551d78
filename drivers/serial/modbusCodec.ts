import { crc16modbus } from 'crc';

/**
 * Modbus RTU framing (Modbus over Serial Line v1.02, section 2.5; Modbus Application Protocol v1.1b3,
 * section 6): an ADU is unit id, function code, data, and a CRC-16 (poly 0xA001, init 0xFFFF) sent low
 * byte first. The master here encodes requests and decodes responses; it never guesses a frame's end
 * from timing alone: the length follows from the request it answers.
 */
export const FC = {
  readCoils: 0x01,
  readDiscreteInputs: 0x02,
  readHoldingRegisters: 0x03,
  readInputRegisters: 0x04,
  writeSingleCoil: 0x05,
  writeSingleRegister: 0x06,
  writeMultipleCoils: 0x0f,
  writeMultipleRegisters: 0x10,
} as const;

export type FunctionCode = (typeof FC)[keyof typeof FC];

/** Exception codes [MODBUS Application Protocol, section 7]. */
export const EXCEPTIONS: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export type ModbusRequest =
  | { unit: number; fc: 0x01 | 0x02 | 0x03 | 0x04; address: number; quantity: number }
  | { unit: number; fc: 0x05; address: number; value: boolean }
  | { unit: number; fc: 0x06; address: number; value: number }
  | { unit: number; fc: 0x0f; address: number; values: readonly boolean[] }
  | { unit: number; fc: 0x10; address: number; values: readonly number[] };

export type ModbusResponse =
  | { ok: true; unit: number; fc: number; registers?: number[]; bits?: boolean[] }
  | { ok: false; unit: number; fc: number; exception: number; message: string };

const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function withCrc(body: Uint8Array): Buffer {
  const crc = crc16modbus(asBuffer(body));
  return Buffer.concat([body, Buffer.from([crc & 0xff, crc >> 8])]);
}

export function crcOk(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const crc = crc16modbus(asBuffer(frame.subarray(0, frame.length - 2)));
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >> 8;
}

export function encodeRequest(r: ModbusRequest): Buffer {
  const b: number[] = [r.unit, r.fc, r.address >> 8, r.address & 0xff];
  switch (r.fc) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
      b.push(r.quantity >> 8, r.quantity & 0xff);
      break;
    case 0x05:
      b.push(r.value ? 0xff : 0x00, 0x00);
      break;
    case 0x06:
      b.push((r.value >> 8) & 0xff, r.value & 0xff);
      break;
    case 0x0f: {
      const bytes = Math.ceil(r.values.length / 8);
      b.push(r.values.length >> 8, r.values.length & 0xff, bytes);
      for (let i = 0; i < bytes; i++) {
        let byte = 0;
        for (let bit = 0; bit < 8; bit++) if (r.values[i * 8 + bit]) byte |= 1 << bit;
        b.push(byte);
      }
      break;
    }
    case 0x10:
      b.push(r.values.length >> 8, r.values.length & 0xff, r.values.length * 2);
      for (const v of r.values) b.push((v >> 8) & 0xff, v & 0xff);
      break;
  }
  return withCrc(Uint8Array.from(b));
}

/**
 * How many bytes the response to `r` has, given its first three bytes (an exception is 5 bytes; reads
 * carry a byte count in the third). Undefined until three bytes are known.
 */
export function expectedLength(r: ModbusRequest, head: Uint8Array): number | undefined {
  if (head.length < 2) return undefined;
  if (((head[1] as number) & 0x80) !== 0) return 5;
  if (r.fc <= 0x04) return head.length < 3 ? undefined : 5 + (head[2] as number);
  return 8; // 05, 06, 0F, 10 echo address and value/quantity
}

/** Decodes a complete response frame to `r`; throws a ModbusFrameError on a malformed one. */
export function decodeResponse(r: ModbusRequest, frame: Uint8Array): ModbusResponse {
  if (!crcOk(frame)) throw new ModbusFrameError('crc', 'CRC mismatch');
  const unit = frame[0] as number;
  const fc = frame[1] as number;
  if (unit !== r.unit) throw new ModbusFrameError('frame', `reply from unit ${unit}, expected ${r.unit}`);
  if (fc === (r.fc | 0x80)) {
    const code = frame[2] as number;
    return { ok: false, unit, fc: r.fc, exception: code, message: EXCEPTIONS[code] ?? `exception ${code}` };
  }
  if (fc !== r.fc) throw new ModbusFrameError('frame', `function ${fc}, expected ${r.fc}`);
  if (r.fc === 0x03 || r.fc === 0x04) {
    const count = frame[2] as number;
    if (count !== r.quantity * 2 || frame.length !== 5 + count) throw new ModbusFrameError('frame', `byte count ${count}, expected ${r.quantity * 2}`);
    const registers: number[] = [];
    for (let i = 0; i < r.quantity; i++) registers.push(((frame[3 + i * 2] as number) << 8) | (frame[4 + i * 2] as number));
    return { ok: true, unit, fc, registers };
  }
  if (r.fc === 0x01 || r.fc === 0x02) {
    const count = frame[2] as number;
    if (count !== Math.ceil(r.quantity / 8)) throw new ModbusFrameError('frame', `byte count ${count}, expected ${Math.ceil(r.quantity / 8)}`);
    const bits: boolean[] = [];
    for (let i = 0; i < r.quantity; i++) bits.push((((frame[3 + (i >> 3)] as number) >> (i & 7)) & 1) === 1);
    return { ok: true, unit, fc, bits };
  }
  const address = ((frame[2] as number) << 8) | (frame[3] as number);
  if (address !== r.address) throw new ModbusFrameError('frame', `write echo for address ${address}, expected ${r.address}`);
  return { ok: true, unit, fc };
}

export class ModbusFrameError extends Error {
  constructor(
    readonly kind: 'crc' | 'frame',
    message: string,
  ) {
    super(message);
  }
}
