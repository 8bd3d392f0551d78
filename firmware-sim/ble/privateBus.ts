import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endProcess } from '../endProcess.ts';

/**
 * A private D-Bus daemon standing in for the system bus: the kernel here has no Bluetooth, so tests
 * and the demo run a simulated BlueZ on it, and node-ble reaches it through DBUS_SYSTEM_BUS_ADDRESS.
 */
export class PrivateBus {
  address = '';
  #daemon: ChildProcess | undefined;

  constructor(readonly dir: string) {}

  async start(): Promise<string> {
    const socket = join(this.dir, 'system_bus_socket');
    const conf = join(this.dir, 'bus.conf');
    writeFileSync(
      conf,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>\n`,
    );
    const daemon = spawn('dbus-daemon', ['--config-file', conf, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#daemon = daemon;
    this.address = await new Promise<string>((resolve, reject) => {
      daemon.once('error', (err) => reject(new Error(`dbus-daemon is needed for BLE tests and the BLE demo (apt-get install dbus): ${err.message}`)));
      daemon.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    });
    return this.address;
  }

  async stop(): Promise<void> {
    const daemon = this.#daemon;
    this.#daemon = undefined;
    await endProcess(daemon);
  }
}
