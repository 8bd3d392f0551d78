import { SerialPort } from 'serialport';

export interface PortSettings {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 2;
  readonly dataBits: 7 | 8;
}

export interface ConnectionHandlers {
  onOpen(): void;
  onClose(reason: string): void;
  onData(data: Buffer): void;
}

/**
 * A serial port that keeps itself open: when it cannot open, or the device disappears (USB adapter
 * unplugged, pty closed), it retries with exponential backoff (0.2 s doubling to 10 s).
 */
export class SerialConnection {
  readonly #settings: PortSettings;
  readonly #handlers: ConnectionHandlers;
  #port: SerialPort | undefined;
  #retry: NodeJS.Timeout | undefined;
  #backoffMs = 200;
  #stopped = true;
  bytesWritten = 0;
  bytesRead = 0;

  constructor(settings: PortSettings, handlers: ConnectionHandlers) {
    this.#settings = settings;
    this.#handlers = handlers;
  }

  get isOpen(): boolean {
    return this.#port?.isOpen ?? false;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#open();
  }

  write(data: Buffer): boolean {
    if (!this.#port?.isOpen) return false;
    this.bytesWritten += data.length;
    this.#port.write(data);
    return true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  #open(): void {
    if (this.#stopped) return;
    const s = this.#settings;
    const port = new SerialPort({ path: s.path, baudRate: s.baudRate, parity: s.parity, stopBits: s.stopBits, dataBits: s.dataBits, autoOpen: false });
    port.on('data', (d: Buffer) => {
      this.bytesRead += d.length;
      this.#handlers.onData(d);
    });
    port.on('error', () => {}); // surfaced through close / failed open
    port.on('close', () => {
      if (this.#port !== port) return;
      this.#port = undefined;
      this.#handlers.onClose('port closed');
      this.#scheduleRetry();
    });
    port.open((err) => {
      if (err) {
        this.#handlers.onClose(err.message);
        this.#scheduleRetry();
        return;
      }
      if (this.#stopped) {
        port.close();
        return;
      }
      this.#port = port;
      this.#backoffMs = 200;
      this.#handlers.onOpen();
    });
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#open();
    }, this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, 10_000);
  }
}
