import { SerialPort } from 'serialport';

/**
 * A simple line-protocol device (a cooler display with a service port): every `reportMs` it prints
 * `temperature=4.2 door=closed setpoint=4`, and obeys `setpoint=N` lines, reporting at once.
 */
export class TextDeviceSim {
  temperature = 4.2;
  door = 'closed';
  setpoint = 4;
  readonly received: string[] = [];
  #port: SerialPort | undefined;
  #timer: NodeJS.Timeout | undefined;
  #partial = '';

  constructor(
    readonly path: string,
    readonly reportMs = 200,
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => {});
    port.on('data', (d: Buffer) => {
      const lines = (this.#partial + d.toString()).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) this.#command(line.trim());
    });
    this.#port = port;
    this.#timer = setInterval(() => this.report(), this.reportMs);
  }

  report(): void {
    this.#port?.write(`temperature=${this.temperature.toFixed(1)} door=${this.door} setpoint=${this.setpoint}\n`);
  }

  /** Sends bytes that are not a record (fault injection). */
  garbage(): void {
    this.#port?.write('\u0000\u00ff#!garbage\n');
  }

  #command(line: string): void {
    this.received.push(line);
    const m = /^setpoint=(-?\d+(?:\.\d+)?)$/.exec(line);
    if (m) {
      this.setpoint = Number(m[1]);
      this.report();
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
