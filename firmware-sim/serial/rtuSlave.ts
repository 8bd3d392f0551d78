import { SerialPort } from 'serialport';

/**
 * Modbus RTU slave firmware on the far end of a serial line, written from the specification
 * independently of the gateway's codec: its own CRC (bitwise, poly 0xA001) and request framing.
 * Several slaves (unit ids) share one line, as on an RS-485 bus.
 */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function frame(body: number[]): Buffer {
  const crc = crc16(Uint8Array.from(body));
  return Buffer.from([...body, crc & 0xff, crc >>> 8]);
}

/** What a slave's memory looks like: four tables, addressed from 0. */
export interface SlaveMemory {
  coils: Map<number, boolean>;
  discrete: Map<number, boolean>;
  holding: Map<number, number>;
  input: Map<number, number>;
  /** Called after the master wrote a coil or register (behaviour reacts). */
  onWrite?(table: 'coil' | 'holding', address: number): void;
}

export type Fault = 'none' | 'bad-crc' | 'silence' | 'garbage' | 'slow';

export interface BusOptions {
  readonly path: string;
  readonly baudRate: number;
  /** Reply only after the bytes would have taken on a real line at this baud rate. */
  readonly pace?: boolean;
  /** Extra delay for the `slow` fault. */
  readonly slowMs?: number;
}

export class RtuSlaveBus {
  readonly slaves = new Map<number, SlaveMemory>();
  fault: Fault = 'none';
  readonly #options: BusOptions;
  #port: SerialPort | undefined;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(options: BusOptions) {
    this.#options = options;
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.#options.path, baudRate: this.#options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (d: Buffer) => this.#onData(d));
    port.on('error', () => {});
    this.#port = port;
  }

  async close(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  #onData(d: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, d]);
    for (;;) {
      const need = requestLength(this.#buffer);
      if (need === undefined || this.#buffer.length < need) return;
      const req = this.#buffer.subarray(0, need);
      this.#buffer = this.#buffer.subarray(need);
      const crc = crc16(req.subarray(0, need - 2));
      if (req[need - 2] !== (crc & 0xff) || req[need - 1] !== crc >>> 8) {
        this.#buffer = Buffer.alloc(0); // lost sync: drop everything and wait for the next request
        return;
      }
      const reply = this.#handle(req);
      if (reply) this.#send(reply, need);
    }
  }

  #send(reply: Buffer, requestBytes: number): void {
    const port = this.#port;
    if (!port || this.fault === 'silence') return;
    let out = reply;
    if (this.fault === 'bad-crc') out = Buffer.from(reply.map((b, i) => (i === reply.length - 1 ? b ^ 0xff : b)));
    if (this.fault === 'garbage') out = Buffer.concat([Buffer.from([0x00, 0x7e, 0xff, 0x13]), reply.subarray(0, 3)]);
    const wire = this.#options.pace ? ((requestBytes + out.length) * 11 * 1000) / this.#options.baudRate : 0;
    const delay = wire + (this.fault === 'slow' ? (this.#options.slowMs ?? 500) : 0);
    if (delay <= 0) port.write(out);
    else setTimeout(() => this.#port?.write(out), delay);
  }

  #handle(req: Buffer): Buffer | undefined {
    const unit = req[0] as number;
    const fc = req[1] as number;
    const mem = this.slaves.get(unit);
    if (!mem) return undefined; // not on this bus: a real bus stays silent
    const addr = ((req[2] as number) << 8) | (req[3] as number);
    const qty = ((req[4] as number) << 8) | (req[5] as number);
    const err = (code: number) => frame([unit, fc | 0x80, code]);
    switch (fc) {
      case 0x01:
      case 0x02: {
        const table = fc === 0x01 ? mem.coils : mem.discrete;
        for (let i = 0; i < qty; i++) if (!table.has(addr + i)) return err(2);
        const bytes = new Array<number>(Math.ceil(qty / 8)).fill(0);
        for (let i = 0; i < qty; i++) if (table.get(addr + i)) bytes[i >> 3] = (bytes[i >> 3] as number) | (1 << (i & 7));
        return frame([unit, fc, bytes.length, ...bytes]);
      }
      case 0x03:
      case 0x04: {
        const table = fc === 0x03 ? mem.holding : mem.input;
        const words: number[] = [];
        for (let i = 0; i < qty; i++) {
          const w = table.get(addr + i);
          if (w === undefined) return err(2);
          words.push((w >> 8) & 0xff, w & 0xff);
        }
        return frame([unit, fc, words.length, ...words]);
      }
      case 0x05:
        if (!mem.coils.has(addr)) return err(2);
        mem.coils.set(addr, req[4] === 0xff);
        mem.onWrite?.('coil', addr);
        return frame([...req.subarray(0, 6)]);
      case 0x06:
        if (!mem.holding.has(addr)) return err(2);
        mem.holding.set(addr, qty);
        mem.onWrite?.('holding', addr);
        return frame([...req.subarray(0, 6)]);
      case 0x0f:
        for (let i = 0; i < qty; i++) {
          if (!mem.coils.has(addr + i)) return err(2);
          mem.coils.set(addr + i, (((req[7 + (i >> 3)] as number) >> (i & 7)) & 1) === 1);
        }
        mem.onWrite?.('coil', addr);
        return frame([...req.subarray(0, 6)]);
      case 0x10:
        for (let i = 0; i < qty; i++) {
          if (!mem.holding.has(addr + i)) return err(2);
          mem.holding.set(addr + i, ((req[7 + i * 2] as number) << 8) | (req[8 + i * 2] as number));
        }
        mem.onWrite?.('holding', addr);
        return frame([...req.subarray(0, 6)]);
      default:
        return err(1);
    }
  }
}

/** A request's length from its first bytes [Modbus Application Protocol, section 6]. */
function requestLength(b: Buffer): number | undefined {
  if (b.length < 2) return undefined;
  const fc = b[1] as number;
  if (fc >= 0x01 && fc <= 0x06) return 8;
  if (fc === 0x0f || fc === 0x10) return b.length < 7 ? undefined : 9 + (b[6] as number);
  return 4; // unknown function: unit, fc, crc (we answer "illegal function")
}
