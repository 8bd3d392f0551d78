import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { LoadClient } from './loadClient.ts';
import type { Target } from './targets.ts';
import { quantile } from './figures.ts';

export interface LoadOptions {
  readonly devices: number;
  readonly warmupMs: number;
  readonly measureMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

async function connectAll(target: Target, n: number): Promise<LoadClient[]> {
  const clients: LoadClient[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let i = next++; i < n; i = next++) {
        clients[i] = await LoadClient.connect({ port: target.port, clientId: `dev-${i}`, ...target.credential(i) });
      }
    }),
  );
  return clients;
}

/** Starts the subscriber process; resolves a function that asks it for its count. */
async function startSubscriber(port: number, qos: 0 | 1): Promise<{ count: () => Promise<number>; stop: () => void }> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'subscriber.js'), [String(port), String(qos)]);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`subscriber exited with ${code}`)));
  });
  return {
    count: () =>
      new Promise((resolve) => {
        child.once('message', (n) => resolve(n as number));
        child.send('count');
      }),
    stop: () => child.send('stop'),
  };
}

export interface Throughput {
  readonly perSecond: number;
  readonly rssMb: number;
}

/**
 * Saturation: every device publishes its readings as fast as the broker takes them (QoS 0: until its
 * socket buffer is full; QoS 1: up to 10 unacknowledged each). What counts: for Trellis, readings
 * committed to SQLite; for bare aedes, publishes ingested; for mosquitto (which cannot report that),
 * messages delivered to one subscriber of everything, in a process of its own.
 */
export async function saturate(target: Target, qos: 0 | 1, o: LoadOptions): Promise<Throughput> {
  const clients = await connectAll(target, o.devices);
  const subscriber = target.count ? undefined : await startSubscriber(target.port, qos);
  const count = async () => (target.count ? target.count() : (subscriber as { count: () => Promise<number> }).count());
  let running = true;
  const payload = (i: number) => JSON.stringify({ value: 20 + (i % 10) });
  const loops: Promise<void>[] = [];
  if (qos === 0) {
    const packets = clients.map((_, i) =>
      mqttPacket.generate({ cmd: 'publish', topic: `trellis/dev-${i}/state`, payload: payload(i), qos: 0, retain: false, dup: false }),
    );
    loops.push(
      (async () => {
        while (running) {
          for (let i = 0; i < clients.length; i++) (clients[i] as LoadClient).writeRaw(packets[i] as Buffer, 4);
          await turn();
        }
      })(),
    );
  } else {
    for (const [i, c] of clients.entries()) {
      const topic = `trellis/dev-${i}/state`;
      const body = payload(i);
      c.onAck(() => {
        if (running) c.publish(topic, body, 1);
      });
      for (let k = 0; k < 10; k++) c.publish(topic, body, 1);
    }
  }
  await sleep(o.warmupMs);
  const start = await count();
  const t0 = performance.now();
  await sleep(o.measureMs);
  const end = await count();
  const seconds = (performance.now() - t0) / 1000;
  const rssMb = target.rssMb();
  running = false;
  await Promise.all(loops);
  for (const c of clients) c.close();
  subscriber?.stop();
  await sleep(300);
  return { perSecond: (end - start) / seconds, rssMb };
}

/**
 * Every device publishes one reading and the target stores them all before the measurement: a new
 * device's registration is a one-off cost that would otherwise land in the window of a slow rate.
 */
async function announce(target: Target, clients: LoadClient[]): Promise<void> {
  const before = (await target.count?.()) ?? 0;
  for (const [i, c] of clients.entries()) c.publish(`trellis/dev-${i}/state`, JSON.stringify({ value: 0 }), 0);
  const deadline = performance.now() + 30_000;
  if (!target.count) await sleep(1000);
  // QoS 0 readings are committed within a second of their arrival
  while (target.count && ((await target.count()) as number) - before < clients.length && performance.now() < deadline) await sleep(200);
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
  /** RSS of the target at the end of the steady run. */
  readonly rssMb: number;
  /** bytes the target wrote to storage per reading it stored, over the measured window (NaN if it cannot count) */
  readonly bytesWrittenPerReading: number;
  /** the average MQTT PUBLISH packet of a reading, on the wire */
  readonly wireBytesPerReading: number;
  /** CPU time (user + system) the target used per reading published during the measured window */
  readonly cpuUsPerReading: number;
}

/**
 * A steady rate of readings. At QoS 1, publish -> PUBACK time (for Trellis the PUBACK means
 * "committed"); at QoS 0 only RSS and bytes written (p50/p99 are NaN).
 */
export async function steadyLatency(target: Target, ratePerSecond: number, o: LoadOptions, qos: 0 | 1 = 1): Promise<Latency> {
  const clients = await connectAll(target, o.devices);
  for (const c of clients) c.recordLatency = false;
  await announce(target, clients);
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((ratePerSecond * tickMs) / 1000));
  let next = 0;
  let published = 0;
  const tick = () => {
    published += perTick;
    for (let k = 0; k < perTick; k++) {
      const i = next++ % clients.length;
      (clients[i] as LoadClient).publish(`trellis/dev-${i}/state`, JSON.stringify({ value: k }), qos);
    }
  };
  const timer = setInterval(tick, tickMs);
  await sleep(o.warmupMs);
  for (const c of clients) c.recordLatency = true;
  const written0 = target.writeBytes();
  const stored0 = (await target.count?.()) ?? Number.NaN;
  const cpu0 = target.cpuSeconds();
  const published0 = published;
  await sleep(o.measureMs);
  const cpu = target.cpuSeconds() - cpu0;
  const sentInWindow = published - published0;
  const rssMb = target.rssMb();
  const written = target.writeBytes() - written0;
  const stored = ((await target.count?.()) ?? Number.NaN) - stored0;
  clearInterval(timer);
  await sleep(200);
  const all = clients.flatMap((c) => c.latencies).sort((a, b) => a - b);
  for (const c of clients) c.close();
  await sleep(300);
  const pick = (q: number) => quantile(all, q);
  // fixed header 2 + topic length 2 + topic + packet id 2 (QoS 1) + payload, for a typical device and value
  const wire =
    2 +
    2 +
    Buffer.byteLength(`trellis/dev-${Math.floor(clients.length / 2)}/state`) +
    2 * qos +
    Buffer.byteLength(JSON.stringify({ value: Math.floor(perTick / 2) }));
  return {
    p50: pick(0.5),
    p99: pick(0.99),
    samples: all.length,
    rssMb,
    bytesWrittenPerReading: stored > 0 ? written / stored : Number.NaN,
    wireBytesPerReading: wire,
    cpuUsPerReading: sentInWindow > 0 ? (cpu * 1e6) / sentInWindow : Number.NaN,
  };
}
