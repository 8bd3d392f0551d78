import type { ChildProcess } from 'node:child_process';

/** Ends a child process we started (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
export function endProcess(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
