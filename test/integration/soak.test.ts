import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TempDirs } from '../helpers/tempDir.ts';

const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

/** A short soak (every fault at least once) as part of the test suite; `npm run soak` runs it longer. */
describe('soak with injected faults (short)', () => {
  it('loses no acknowledged reading and misses no rule trigger through device drops, serial unplug, BlueZ loss, cloud outage and a gateway SIGKILL', async () => {
    const out = join(dirs.make(), 'soak.json');
    const script = join(import.meta.dirname, '..', '..', 'dist-dev', 'bench', 'soak.js'); // built by the test setup
    const child = spawn(process.execPath, [script, '--minutes', '0.75', '--fault-every', '3', '--devices', '10', '--rate', '100', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, log).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      faults: string[];
      acknowledged: number;
      acknowledgedLost: number;
      ruleTriggers: number;
      rulesMissed: number;
      serialReadings: number;
      bleReadings: number;
      outboxLeftAtEnd: number;
    };
    expect(new Set(report.faults).size).toBe(5);
    expect(report.acknowledged).toBeGreaterThan(1000);
    expect(report.acknowledgedLost).toBe(0);
    expect(report.ruleTriggers).toBeGreaterThan(100);
    expect(report.rulesMissed).toBe(0);
    expect(report.serialReadings).toBeGreaterThan(0);
    expect(report.bleReadings).toBeGreaterThan(0);
  }, 120_000);
});
