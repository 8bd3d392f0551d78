import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModbusLine } from '../drivers/serial/modbusLine.ts';
import type { DeviceDefinition } from '../drivers/serial/registerMap.ts';
import { PtyPair } from '../firmware-sim/serial/ptyPair.ts';
import { RtuSlaveBus } from '../firmware-sim/serial/rtuSlave.ts';

/**
 * Polling `devices` x `registers` holding registers as fast as the line allows, with the simulated
 * slaves answering only after the bytes would have crossed a real line at `baud`: bytes on the wire
 * as a ratio of the line's capacity (baud / 11 bytes per second, 8N1 plus start and stop) over the
 * same interval.
 */
export async function busUtilisation(
  devices: number,
  registers: number,
  baud: number,
  measureMs: number,
): Promise<{ utilisation: number; bytesPerSecond: number; capacity: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-serial-'));
  const pty = new PtyPair(dir, 'bus');
  await pty.open();
  const bus = new RtuSlaveBus({ path: pty.devicePath, baudRate: baud, pace: true });
  const definition: DeviceDefinition = {
    model: 'bench',
    manufacturer: 'bench',
    points: Array.from({ length: registers }, (_, i) => ({ attribute: `r${i}`, table: 'holding' as const, address: i, type: 'uint16' as const })),
  };
  for (let u = 1; u <= devices; u++) {
    const holding = new Map<number, number>();
    for (let i = 0; i < registers; i++) holding.set(i, u * 100 + i);
    bus.slaves.set(u, { coils: new Map(), discrete: new Map(), holding, input: new Map() });
  }
  await bus.open();
  const line = new ModbusLine(
    {
      path: pty.gatewayPath,
      baudRate: baud,
      parity: 'none',
      stopBits: 1,
      dataBits: 8,
      timeoutMs: 500,
      retries: 1,
      pollMs: 0, // back to back: the achievable rate
      devices: Array.from({ length: devices }, (_, i) => ({ id: `d${i + 1}`, name: `d${i + 1}`, unit: i + 1, definition })),
    },
    { now: Date.now, events: () => {}, rejected: () => {} },
  );
  line.start();
  await new Promise((r) => setTimeout(r, 1000));
  const b0 = line.bytesOnWire;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, measureMs));
  const bytes = line.bytesOnWire - b0;
  const seconds = (performance.now() - t0) / 1000;
  await line.stop();
  await bus.close();
  await pty.close();
  rmSync(dir, { recursive: true, force: true });
  const capacity = baud / 11;
  return { utilisation: bytes / seconds / capacity, bytesPerSecond: bytes / seconds, capacity };
}
