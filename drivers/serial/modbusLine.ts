import type { AttributeValue, DeviceEvent } from '../types.ts';
import { decodeResponse, encodeRequest, expectedLength, ModbusFrameError, type ModbusRequest, type ModbusResponse } from './modbusCodec.ts';
import { decodeBlock, encodeWrite, readBlocks, type DeviceDefinition, type ReadBlock } from './registerMap.ts';
import { SerialConnection, type PortSettings } from './serialConnection.ts';

export interface ModbusDeviceConfig {
  readonly id: string;
  readonly name: string;
  readonly unit: number;
  readonly definition: DeviceDefinition;
}

export interface ModbusLineConfig extends PortSettings {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly pollMs: number;
  readonly devices: readonly ModbusDeviceConfig[];
}

export interface LineSink {
  /** the gateway's clock: events are stamped with it */
  now(): number;
  events(events: DeviceEvent[]): void;
  rejected(deviceId: string, source: string, reason: string): void;
}

export interface DeviceCounters {
  requests: number;
  timeouts: number;
  crcErrors: number;
  frameErrors: number;
  garbageBytes: number;
  exceptions: number;
}

interface Job {
  readonly device: DeviceState;
  readonly request: ModbusRequest;
  attempts: number;
  resolve(res: ModbusResponse): void;
  reject(err: Error): void;
}

interface DeviceState {
  readonly cfg: ModbusDeviceConfig;
  readonly blocks: ReadBlock[];
  readonly last: Map<string, AttributeValue>;
  online: boolean | undefined;
  exception: number | undefined;
  readonly counters: DeviceCounters;
}

/**
 * One Modbus RTU line (RS-485 bus or RS-232 link): one request in flight, polled round-robin across its
 * devices (writes go first), per-request timeout and retries, resynchronisation after CRC errors,
 * garbage or short frames (the input is dropped and the line left quiet for a frame gap), devices
 * offline after failed retries or when the port goes away; exceptions become device faults.
 */
export class ModbusLine {
  readonly #cfg: ModbusLineConfig;
  readonly #sink: LineSink;
  readonly #conn: SerialConnection;
  readonly #devices = new Map<string, DeviceState>();
  readonly #writes: Job[] = [];
  readonly #polls: Job[] = [];
  #inflight: { job: Job; buf: Buffer; timer: NodeJS.Timeout } | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #gapTimer: NodeJS.Timeout | undefined;
  #quietUntil = 0;
  /** Silent interval between frames: 3.5 character times, 1.75 ms above 19,200 baud [Modbus serial line 2.5.1.1]. */
  readonly #gapMs: number;

  constructor(cfg: ModbusLineConfig, sink: LineSink) {
    this.#cfg = cfg;
    this.#sink = sink;
    this.#gapMs = cfg.baudRate > 19_200 ? 1.75 : (3.5 * 11 * 1000) / cfg.baudRate;
    for (const d of cfg.devices) {
      this.#devices.set(d.id, {
        cfg: d,
        blocks: readBlocks(d.definition),
        last: new Map(),
        online: undefined,
        exception: undefined,
        counters: { requests: 0, timeouts: 0, crcErrors: 0, frameErrors: 0, garbageBytes: 0, exceptions: 0 },
      });
    }
    this.#conn = new SerialConnection(cfg, {
      onOpen: () => this.#poll(),
      onClose: () => this.#portLost(),
      onData: (d) => this.#onData(d),
    });
  }

  get bytesOnWire(): number {
    return this.#conn.bytesRead + this.#conn.bytesWritten;
  }

  counters(deviceId: string): Readonly<DeviceCounters> | undefined {
    return this.#devices.get(deviceId)?.counters;
  }

  start(): void {
    this.#conn.start();
  }

  async stop(): Promise<void> {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#pollTimer = undefined;
    this.#gapTimer = undefined;
    this.#failAll(new Error('line stopped'));
    await this.#conn.stop();
  }

  /** Writes an attribute, then reads it back; resolves once the device confirms the new value. */
  async write(deviceId: string, attribute: string, value: AttributeValue): Promise<void> {
    const device = this.#devices.get(deviceId);
    const point = device?.cfg.definition.points.find((p) => p.attribute === attribute);
    if (!device || !point) throw new Error(`${deviceId} has no attribute ${attribute}`);
    const request = encodeWrite(device.cfg.unit, point, value);
    if (typeof request === 'string') throw new Error(request);
    const res = await this.#enqueue(device, request, this.#writes);
    if (!res.ok) throw new Error(`${deviceId} refused the write: ${res.message}`);
    const block = device.blocks.find((b) => b.points.includes(point));
    if (block) await this.#readBlock(device, block, this.#writes);
  }

  #enqueue(device: DeviceState, request: ModbusRequest, queue: Job[]): Promise<ModbusResponse> {
    return new Promise((resolve, reject) => {
      queue.push({ device, request, attempts: 0, resolve, reject });
      this.#pump();
    });
  }

  /** One polling round over every device and block, then the next after pollMs. */
  #poll(): void {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    const started = performance.now();
    const round: Array<Promise<unknown>> = [];
    for (const device of this.#devices.values()) {
      for (const block of device.blocks) round.push(this.#readBlock(device, block, this.#polls).catch(() => undefined));
    }
    void Promise.all(round).then(() => {
      if (!this.#conn.isOpen) return;
      this.#pollTimer = setTimeout(() => this.#poll(), Math.max(0, this.#cfg.pollMs - (performance.now() - started)));
    });
  }

  async #readBlock(device: DeviceState, block: ReadBlock, queue: Job[]): Promise<void> {
    const res = await this.#enqueue(device, { unit: device.cfg.unit, fc: block.fc, address: block.address, quantity: block.quantity }, queue);
    const events: DeviceEvent[] = [];
    const ts = this.#sink.now();
    if (!res.ok) {
      device.counters.exceptions++;
      if (device.exception !== res.exception) {
        device.exception = res.exception;
        events.push({
          kind: 'fault',
          deviceId: device.cfg.id,
          ts,
          code: `modbus_exception_${res.exception}`,
          active: true,
          message: `Modbus exception ${res.exception}: ${res.message}`,
        });
      }
      this.#sink.events(events);
      return;
    }
    if (device.exception !== undefined) {
      events.push({ kind: 'fault', deviceId: device.cfg.id, ts, code: `modbus_exception_${device.exception}`, active: false, message: 'cleared' });
      device.exception = undefined;
    }
    for (const [attribute, value] of decodeBlock(block, res.registers, res.bits)) {
      const before = device.last.get(attribute);
      if (before === value) continue;
      device.last.set(attribute, value);
      events.push({ kind: 'reading', deviceId: device.cfg.id, ts, attribute, value });
      const point = block.points.find((p) => p.attribute === attribute);
      if (point?.deviceClass === 'problem' && typeof value === 'boolean' && (before !== undefined || value)) {
        events.push({ kind: 'fault', deviceId: device.cfg.id, ts, code: attribute, active: value, message: `${attribute} ${value ? 'raised' : 'cleared'}` });
      }
    }
    if (events.length > 0) this.#sink.events(events);
  }

  #pump(): void {
    if (this.#inflight || this.#gapTimer || !this.#conn.isOpen) return;
    const wait = this.#quietUntil - performance.now();
    if (wait > 0) {
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const job = this.#writes.shift() ?? this.#polls.shift();
    if (!job) return;
    job.attempts++;
    job.device.counters.requests++;
    const timer = setTimeout(() => this.#fail(job, 'timeout'), this.#cfg.timeoutMs);
    this.#inflight = { job, buf: Buffer.alloc(0), timer };
    this.#conn.write(encodeRequest(job.request));
  }

  #onData(d: Buffer): void {
    const inflight = this.#inflight;
    if (!inflight) {
      for (const device of this.#devices.values()) device.counters.garbageBytes += d.length;
      this.#quietUntil = performance.now() + this.#gapMs;
      return;
    }
    inflight.buf = Buffer.concat([inflight.buf, d]);
    // Resynchronise: a reply starts with the polled unit and the function code (or its exception).
    const { unit, fc } = inflight.job.request;
    let skip = 0;
    while (inflight.buf.length - skip >= 2 && !(inflight.buf[skip] === unit && (inflight.buf[skip + 1] === fc || inflight.buf[skip + 1] === (fc | 0x80))))
      skip++;
    if (skip > 0) {
      inflight.job.device.counters.garbageBytes += skip;
      inflight.buf = inflight.buf.subarray(skip);
    }
    const need = expectedLength(inflight.job.request, inflight.buf);
    if (need === undefined || inflight.buf.length < need) return;
    const frameBytes = inflight.buf.subarray(0, need);
    if (inflight.buf.length > need) inflight.job.device.counters.garbageBytes += inflight.buf.length - need;
    try {
      const res = decodeResponse(inflight.job.request, frameBytes);
      this.#complete(res);
    } catch (err) {
      this.#fail(inflight.job, err instanceof ModbusFrameError ? err.kind : 'frame');
    }
  }

  #complete(res: ModbusResponse): void {
    const inflight = this.#inflight;
    if (!inflight) return;
    clearTimeout(inflight.timer);
    this.#inflight = undefined;
    this.#quietUntil = performance.now() + this.#gapMs;
    this.#setOnline(inflight.job.device, true);
    inflight.job.resolve(res);
    this.#pump();
  }

  /** A request failed (timeout, bad CRC, malformed): resynchronise, then retry or give up. */
  #fail(job: Job, why: 'timeout' | 'crc' | 'frame'): void {
    if (this.#inflight?.job !== job) return;
    clearTimeout(this.#inflight.timer);
    this.#inflight = undefined;
    const c = job.device.counters;
    if (why === 'timeout') c.timeouts++;
    else if (why === 'crc') c.crcErrors++;
    else c.frameErrors++;
    // leave the line quiet long enough for the rest of a bad frame to pass before the next request
    this.#quietUntil = performance.now() + Math.max(this.#gapMs * 4, 20);
    if (job.attempts <= this.#cfg.retries && this.#conn.isOpen) this.#writes.unshift(job);
    else {
      this.#setOnline(job.device, false);
      job.reject(new Error(`${job.device.cfg.id}: no valid reply after ${job.attempts} attempts (${why})`));
    }
    this.#pump();
  }

  #setOnline(device: DeviceState, online: boolean): void {
    if (device.online === online) return;
    device.online = online;
    if (!online) device.last.clear(); // report every value again when it comes back
    this.#sink.events([{ kind: 'availability', deviceId: device.cfg.id, ts: this.#sink.now(), online }]);
  }

  #portLost(): void {
    this.#failAll(new Error('serial port closed'));
    for (const device of this.#devices.values()) this.#setOnline(device, false);
  }

  #failAll(err: Error): void {
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    const inflight = this.#inflight;
    this.#inflight = undefined;
    if (inflight) {
      clearTimeout(inflight.timer);
      inflight.job.reject(err);
    }
    for (const job of this.#writes.splice(0).concat(this.#polls.splice(0))) job.reject(err);
  }
}
