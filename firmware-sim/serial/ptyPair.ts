import { spawn, type ChildProcess } from 'node:child_process';
import { endProcess } from '../endProcess.ts';

/**
 * A serial cable in software: `socat` joins two pseudo-terminals. The ends appear at fixed link paths,
 * so a test can pull the cable (`close()`) and plug it back in (`open()`) at the same path.
 */
export class PtyPair {
  readonly gatewayPath: string;
  readonly devicePath: string;
  #socat: ChildProcess | undefined;

  constructor(dir: string, name: string) {
    this.gatewayPath = `${dir}/${name}-gw`;
    this.devicePath = `${dir}/${name}-dev`;
  }

  async open(): Promise<void> {
    if (this.#socat) return;
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.gatewayPath}`, `pty,raw,echo=0,link=${this.devicePath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#socat = socat;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`socat did not start: ${log}`)), 5000);
      socat.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`socat is needed for serial tests and the serial demo (apt-get install socat): ${err.message}`));
      });
      socat.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('starting data transfer loop')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Pulls the cable: socat exits and both ends vanish. */
  async close(): Promise<void> {
    const socat = this.#socat;
    this.#socat = undefined;
    await endProcess(socat);
  }
}
