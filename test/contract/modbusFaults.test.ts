import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { DEFINITIONS } from '../../drivers/serial/definitions.ts';
import { ModbusLine } from '../../drivers/serial/modbusLine.ts';
import { PtyPair } from '../../firmware-sim/serial/ptyPair.ts';
import { RtuSlaveBus } from '../../firmware-sim/serial/rtuSlave.ts';
import { SIM_SLAVES } from '../../firmware-sim/serial/slaves.ts';
import { waitFor } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/** Every fault the simulated firmware can inject, counted per device and recovered from. */
describe('Modbus line faults', () => {
  const dirs = new TempDirs();
  let pty: PtyPair;
  let bus: RtuSlaveBus;
  let line: ModbusLine;
  const events: DeviceEvent[] = [];
  const fridge = SIM_SLAVES['fridge-controller']();
  const online = () => events.filter((e) => e.kind === 'availability' && e.deviceId === 'fridge').at(-1) as { online: boolean } | undefined;
  const counters = () => line.counters('fridge') as NonNullable<ReturnType<ModbusLine['counters']>>;
  const readingsSoFar = () => events.filter((e) => e.kind === 'reading').length;
  /** A new value on the device, so a successful poll shows up as a reading. */
  const nudge = (tenths: number) => fridge.memory.input.set(0x0100, tenths);

  const openBus = async () => {
    bus = new RtuSlaveBus({ path: pty.devicePath, baudRate: 19200, slowMs: 400 });
    bus.slaves.set(2, fridge.memory);
    await bus.open();
  };

  beforeAll(async () => {
    pty = new PtyPair(dirs.make(), 'faulty');
    await pty.open();
    await openBus();
    line = new ModbusLine(
      {
        path: pty.gatewayPath,
        baudRate: 19200,
        parity: 'none',
        stopBits: 1,
        dataBits: 8,
        timeoutMs: 150,
        retries: 1,
        pollMs: 50,
        devices: [{ id: 'fridge', name: 'Fridge', unit: 2, definition: DEFINITIONS['fridge-controller'] as never }],
      },
      { now: Date.now, events: (e) => events.push(...e), rejected: () => {} },
    );
    line.start();
    await waitFor(() => online()?.online === true, 5000, 'fridge online');
  });
  afterAll(async () => {
    await line?.stop();
    await bus?.close();
    await pty?.close();
    dirs.cleanup();
  });

  async function injectAndRecover(fault: 'bad-crc' | 'silence' | 'garbage', counter: 'crcErrors' | 'timeouts' | 'frameErrors' | 'garbageBytes') {
    const before = counters()[counter];
    bus.fault = fault;
    await waitFor(() => counters()[counter] > before, 3000, `${fault} counted`);
    await waitFor(() => online()?.online === false, 3000, `${fault}: offline after failed retries`);
    bus.fault = 'none';
    const seen = readingsSoFar();
    nudge(Math.round(Math.random() * 300));
    await waitFor(() => online()?.online === true && readingsSoFar() > seen, 3000, `${fault}: recovered`);
  }

  it('counts bad CRCs, goes offline, resynchronises and recovers', () => injectAndRecover('bad-crc', 'crcErrors'));
  it('counts timeouts when the device falls silent, and recovers', () => injectAndRecover('silence', 'timeouts'));
  it('counts garbage bytes and short frames, and recovers', async () => {
    const frameErrorsBefore = counters().frameErrors + counters().timeouts;
    await injectAndRecover('garbage', 'garbageBytes');
    expect(counters().frameErrors + counters().timeouts).toBeGreaterThan(frameErrorsBefore);
  });

  it('treats replies slower than the timeout as timeouts, and recovers when they speed up', async () => {
    const before = counters().timeouts;
    bus.fault = 'slow';
    await waitFor(() => counters().timeouts > before, 3000, 'slow reply timed out');
    bus.fault = 'none';
    const seen = readingsSoFar();
    nudge(123);
    await waitFor(() => online()?.online === true && readingsSoFar() > seen, 3000, 'recovered');
  });

  it('marks devices offline when the port disappears and resumes when it returns', async () => {
    await bus.close();
    await pty.close();
    await waitFor(() => online()?.online === false, 3000, 'offline with the port gone');
    await new Promise((r) => setTimeout(r, 500)); // the line keeps retrying with backoff meanwhile
    await pty.open();
    await openBus();
    const seen = readingsSoFar();
    nudge(77);
    await waitFor(() => online()?.online === true && readingsSoFar() > seen, 10_000, 'back online on the same path');
  });
});
