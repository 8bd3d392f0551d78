import { DriverError, DriverErrorCodes } from '../errors.ts';
import type { Command, DeviceEvent, Driver, DriverCounters, DriverSink, Now } from '../types.ts';
import { DEFINITIONS } from './definitions.ts';
import { ModbusLine } from './modbusLine.ts';
import { attributeSpecs } from './registerMap.ts';
import type { PortSettings } from './serialConnection.ts';
import { TextLine } from './textLine.ts';

export interface SerialLineConfig extends PortSettings {
  readonly protocol: 'modbus' | 'text';
  readonly timeoutMs: number;
  readonly retries: number;
  readonly pollMs: number;
  readonly devices: ReadonlyArray<{ readonly id: string; readonly name?: string | undefined; readonly unit: number; readonly definition: string }>;
  readonly device?:
    | { readonly id: string; readonly name?: string | undefined; readonly format: 'kv' | 'json'; readonly writable: readonly string[] }
    | undefined;
}

/**
 * The serial driver: one ModbusLine or TextLine per configured port. Modbus devices are described
 * from their register maps at start; text devices describe themselves as their attributes appear.
 * Lines are independent: a fault on one never stops another.
 */
export class SerialDriver implements Driver {
  readonly protocol = 'serial' as const;
  readonly #lines: readonly SerialLineConfig[];
  readonly #modbus: ModbusLine[] = [];
  readonly #text: TextLine[] = [];
  readonly #route = new Map<string, ModbusLine | TextLine>();
  readonly #counters = { messages: 0, rejected: 0, commandsSent: 0 };

  readonly #now: Now;

  constructor(lines: readonly SerialLineConfig[], now: Now = Date.now) {
    this.#lines = lines;
    this.#now = now;
  }

  async start(sink: DriverSink): Promise<void> {
    if (this.#route.size > 0) return;
    const events = (e: DeviceEvent[]) => {
      this.#counters.messages += e.length;
      sink.ingest(e);
    };
    const rejected = (deviceId: string | undefined, source: string, reason: string) => {
      this.#counters.rejected++;
      sink.rejected(deviceId, source, reason);
    };
    for (const line of this.#lines) {
      if (line.protocol === 'text' && line.device) {
        const device = line.device;
        const text = new TextLine(
          { ...line, device: { id: device.id, name: device.name ?? device.id, format: device.format, writable: device.writable } },
          { now: this.#now, describe: (d) => sink.describe(d), events, rejected },
        );
        this.#text.push(text);
        this.#route.set(device.id, text);
        continue;
      }
      const devices = line.devices.map((d) => ({
        id: d.id,
        name: d.name ?? d.id,
        unit: d.unit,
        definition: DEFINITIONS[d.definition] as NonNullable<(typeof DEFINITIONS)[string]>,
      }));
      const modbus = new ModbusLine({ ...line, devices }, { now: this.#now, events, rejected });
      this.#modbus.push(modbus);
      for (const d of devices) {
        sink.describe({
          id: d.id,
          name: d.name,
          protocol: 'serial',
          owner: `serial:${line.path}`,
          manufacturer: d.definition.manufacturer,
          model: d.definition.model,
          attributes: attributeSpecs(d.definition),
        });
        this.#route.set(d.id, modbus);
      }
    }
    for (const l of [...this.#modbus, ...this.#text]) l.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#modbus, ...this.#text].map((l) => l.stop()));
    this.#modbus.length = 0;
    this.#text.length = 0;
    this.#route.clear();
  }

  async send(cmd: Command): Promise<void> {
    const line = this.#route.get(cmd.deviceId);
    if (!line) throw new DriverError(DriverErrorCodes.command, `no serial line has device "${cmd.deviceId}"`);
    try {
      await (line instanceof ModbusLine ? line.write(cmd.deviceId, cmd.attribute, cmd.value) : line.write(cmd.attribute, cmd.value));
      this.#counters.commandsSent++;
    } catch (err) {
      throw new DriverError(DriverErrorCodes.command, (err as Error).message, { cause: err });
    }
  }

  counters(): DriverCounters {
    return { ...this.#counters };
  }
}
