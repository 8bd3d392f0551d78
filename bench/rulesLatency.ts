import { fork } from 'node:child_process';
import { join } from 'node:path';
import { LoadClient } from './loadClient.ts';
import type { Target } from './targets.ts';
import { quantile } from './figures.ts';

/** Rule i: when dev-i's counter changes, toggle dev-(i+1)'s `on` (1,000 devices, 1,000 rules). */
export function chainRules(devices: number): string {
  const rules = Array.from(
    { length: devices },
    (_, i) => `  - id: r${i}\n    triggers: [{device: dev-${i}, attribute: count}]\n    actions: [{toggle: {device: dev-${(i + 1) % devices}, attribute: on}}]`,
  );
  return `rules:\n${rules.join('\n')}\n`;
}

export const chainDevice = (i: number) => ({ name: `dev-${i}`, attributes: { count: { type: 'number' }, on: { type: 'boolean', writable: true } } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the relay process (the mosquitto baseline's middle hop). */
export async function startRelay(port: number, devices: number): Promise<() => void> {
  const child = fork(join(import.meta.dirname, 'relay.js'), [String(port), String(devices)]);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  return () => child.send('stop');
}

/**
 * Sensor -> rule -> actuator: devices publish counters at `rate` events/s (QoS 0); each event's
 * command arrives at the next device, which times it. All devices live in this one process, so send
 * and receive times come from one clock.
 */
export async function ruleLatency(
  target: Target,
  devices: number,
  rate: number,
  warmupMs: number,
  measureMs: number,
  /** called as the measured window starts and ends (the event-loop probe's marks) */
  window: { start(): void; end(): void } = { start() {}, end() {} },
): Promise<{ p50: number; p90: number; p99: number; max: number; samples: number; lost: number }> {
  const clients: LoadClient[] = [];
  for (let i = 0; i < devices; i++) clients.push(await LoadClient.connect({ port: target.port, clientId: `dev-${i}`, ...target.credential(i) }));
  const sent: number[][] = Array.from({ length: devices }, () => []); // per target device: send times, in order
  const latencies: number[] = [];
  let recording = false;
  let expected = 0;
  for (const [j, c] of clients.entries()) {
    c.subscribe(`trellis/dev-${j}/set`, 0);
    c.onPublish = () => {
      const t = sent[j]?.shift();
      if (t !== undefined && recording) latencies.push(performance.now() - t);
    };
  }
  await sleep(300);
  // every counter gets a first value (a first value is not a change, so it triggers nothing)
  for (const [i, c] of clients.entries()) c.publish(`trellis/dev-${i}/state`, '{"count":0}', 0);
  await sleep(500);

  // Evenly spaced: every millisecond, the events due by then (about one), not bursts that would
  // queue behind each other in every hop.
  const counts = new Array<number>(devices).fill(0);
  let next = 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * rate) / 1000);
    for (; next < due; next++) {
      const i = next % devices;
      counts[i] = (counts[i] ?? 0) + 1;
      (sent[(i + 1) % devices] as number[]).push(performance.now());
      if (recording) expected++;
      (clients[i] as LoadClient).publish(`trellis/dev-${i}/state`, `{"count":${counts[i]}}`, 0);
    }
  }, 1);
  await sleep(warmupMs);
  recording = true;
  window.start();
  await sleep(measureMs);
  window.end();
  clearInterval(timer);
  await sleep(500);
  recording = false;
  for (const c of clients) c.close();
  await sleep(200);
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => quantile(latencies, q);
  return {
    p50: pick(0.5),
    p90: pick(0.9),
    p99: pick(0.99),
    max: latencies.at(-1) ?? Number.NaN,
    samples: latencies.length,
    lost: Math.max(0, expected - latencies.length),
  };
}
