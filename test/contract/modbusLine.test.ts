import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { DEFINITIONS } from '../../drivers/serial/definitions.ts';
import { ModbusLine } from '../../drivers/serial/modbusLine.ts';
import { PtyPair } from '../../firmware-sim/serial/ptyPair.ts';
import { RtuSlaveBus } from '../../firmware-sim/serial/rtuSlave.ts';
import { SIM_SLAVES, type SimSlave } from '../../firmware-sim/serial/slaves.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

const def = (name: string) => DEFINITIONS[name] as NonNullable<(typeof DEFINITIONS)[string]>;

/** The Modbus RTU line against simulated slave firmware over a real pty pair (socat). */
describe('Modbus RTU line over a pty pair', () => {
  const dirs = new TempDirs();
  let pty: PtyPair;
  let bus: RtuSlaveBus;
  let line: ModbusLine;
  const events: DeviceEvent[] = [];
  const slaves: Record<string, SimSlave> = {};
  const last = (deviceId: string, attribute: string) =>
    events.filter((e) => e.kind === 'reading' && e.deviceId === deviceId && e.attribute === attribute).at(-1) as { value: unknown } | undefined;

  beforeAll(async () => {
    pty = new PtyPair(dirs.make(), 'rs485');
    await pty.open();
    bus = new RtuSlaveBus({ path: pty.devicePath, baudRate: 19200 });
    slaves.meter = SIM_SLAVES['energy-meter']();
    slaves.fridge = SIM_SLAVES['fridge-controller']();
    slaves.coffee = SIM_SLAVES['coffee-controller']();
    bus.slaves.set(1, slaves.meter.memory);
    bus.slaves.set(2, slaves.fridge.memory);
    bus.slaves.set(3, slaves.coffee.memory);
    await bus.open();
    line = new ModbusLine(
      {
        path: pty.gatewayPath,
        baudRate: 19200,
        parity: 'none',
        stopBits: 1,
        dataBits: 8,
        timeoutMs: 150,
        retries: 1,
        pollMs: 100,
        devices: [
          { id: 'meter', name: 'Meter', unit: 1, definition: def('energy-meter') },
          { id: 'fridge', name: 'Fridge', unit: 2, definition: def('fridge-controller') },
          { id: 'coffee', name: 'Coffee', unit: 3, definition: def('coffee-controller') },
        ],
      },
      { now: Date.now, events: (e) => events.push(...e), rejected: () => {} },
    );
    line.start();
  });
  afterAll(async () => {
    await line?.stop();
    await bus?.close();
    await pty?.close();
    dirs.cleanup();
  });

  it('polls every device and decodes its registers into typed values', async () => {
    await waitFor(() => last('meter', 'energy') && last('fridge', 'setpoint') && last('coffee', 'cups'), 5000, 'first readings');
    expect(Math.abs((last('meter', 'voltage')?.value as number) - 230)).toBeLessThanOrEqual(2.001); // float32 on the wire; the sim wanders ±2 V
    expect(last('meter', 'current')?.value).toBeCloseTo(4.2, 3);
    expect(last('fridge', 'setpoint')?.value).toBe(4);
    expect(typeof last('fridge', 'compressor')?.value).toBe('boolean');
    expect(last('coffee', 'cups')?.value).toBeGreaterThanOrEqual(70_000); // 32-bit, low word first
    expect(last('coffee', 'boiler_temperature')?.value).toBe(119.5);
    expect(
      events
        .filter((e) => e.kind === 'availability' && e.online)
        .map((e) => e.deviceId)
        .sort(),
    ).toEqual(['coffee', 'fridge', 'meter']);
  });

  it('writes a register and a coil, and reads the new state back', async () => {
    await line.write('fridge', 'setpoint', -2.5);
    expect(last('fridge', 'setpoint')?.value).toBe(-2.5);
    expect(slaves.fridge?.memory.holding.get(0x0200)).toBe(0xffe7); // -25 tenths, two's complement
    await line.write('coffee', 'descale', true);
    expect(last('coffee', 'descale')?.value).toBe(true);
    await waitFor(() => last('coffee', 'descale_needed')?.value === false, 3000, 'descale flag cleared by the device');
    expect(events.some((e) => e.kind === 'fault' && e.deviceId === 'coffee' && e.code === 'descale_needed' && !e.active)).toBe(true);
  });
});
