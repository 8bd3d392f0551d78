import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PtyPair } from '../../firmware-sim/serial/ptyPair.ts';
import { RtuSlaveBus } from '../../firmware-sim/serial/rtuSlave.ts';
import { SIM_SLAVES } from '../../firmware-sim/serial/slaves.ts';
import type { Config } from '../config/schema.ts';

/**
 * The demo shop's serial bus: for every configured line whose path ends in `-gw`, a simulated cable
 * (socat) and Modbus slave firmware for its devices on the far end. Without socat, the serial part of
 * the demo is skipped (the rest runs).
 */
export async function startDemoSerial(config: Readonly<Config>): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  for (const line of config.serial) {
    if (!line.path.endsWith('-gw') || line.protocol !== 'modbus') continue;
    mkdirSync(dirname(line.path), { recursive: true });
    const pty = new PtyPair(dirname(line.path), line.path.slice(dirname(line.path).length + 1, -'-gw'.length));
    await pty.open();
    const bus = new RtuSlaveBus({ path: pty.devicePath, baudRate: line.baudRate });
    const slaves = line.devices.map((d) => {
      const slave = SIM_SLAVES[d.definition as keyof typeof SIM_SLAVES]();
      bus.slaves.set(d.unit, slave.memory);
      return slave;
    });
    await bus.open();
    const timer = setInterval(() => {
      for (const s of slaves) s.step(60_000); // a simulated minute per second, like the MQTT demo devices
    }, 5000);
    stops.push(async () => {
      clearInterval(timer);
      await bus.close();
      await pty.close();
    });
  }
  return async () => {
    for (const stop of stops) await stop();
  };
}
