// `npm run bench`: the gateway's MQTT ingest measured next to bare aedes and Debian mosquitto in the
// same run, printed as ratios (these machines are noisy; only same-run ratios are comparable).
// Everything runs on loopback. `npm run bench -- --quick` for a short run.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/gatewayProcess.ts';
import { saturate, steadyLatency, type LoadOptions } from './scenarios.ts';
import { figureList } from './figures.ts';
import { fsyncP50Ms } from './fsync.ts';
import { projectRoot } from './root.ts';
import { engineThroughput } from './rulesEngine.ts';
import { busUtilisation } from './serialBus.ts';
import { outboxDrain } from './cloudDrain.ts';
import { meteringCost } from './meteringCost.ts';
import { chainDevice, chainRules, ruleLatency, startRelay } from './rulesLatency.ts';
import { MOSQUITTO, startBareAedes, startMosquitto, startTrellis, type Target } from './targets.ts';

const quick = process.argv.includes('--quick');
const load: LoadOptions = quick ? { devices: 200, warmupMs: 1000, measureMs: 2000 } : { devices: 1000, warmupMs: 2000, measureMs: 5000 };
const steadyRate = quick ? 500 : 2000;
/** the rate the SD-card wear figure is for: a busy home or shop */
const HOUSEHOLD_RATE = 100;
const hasMosquitto = existsSync(MOSQUITTO);

type Starter = (port: number) => Promise<Target>;
const targets: Array<[string, Starter]> = [
  ['trellis', (port) => startTrellis(port, load.devices)],
  ['bare aedes', startBareAedes],
  ...(hasMosquitto ? [['mosquitto', startMosquitto] as [string, Starter]] : []),
];

async function withTarget<T>(start: Starter, fn: (t: Target) => Promise<T>): Promise<T> {
  const target = await start(await freePort());
  try {
    return await fn(target);
  } finally {
    await target.stop();
  }
}

// one fsync on the disk the targets' data lives on, measured in this run: the group-commit goal adds it
const fsyncMs = fsyncP50Ms();
process.stderr.write(`fsync p50 on the data disk: ${fsyncMs.toFixed(2)} ms\n`);
/** the rate of the QoS 1 latency goal (a PUBACK in one fsync), in both sizes */
const ACK_RATE = 500;
/** the rate of the bytes-per-reading goal at QoS 1, in both sizes */
const BYTES_RATE = 2000;
/** the steady rate CPU per message is measured at */
const CPU_RATE = 5000;

let householdAcked = Number.NaN;
const extra: Record<string, { ackP50: number; ackP99: number; cpu0: number; cpu1: number; bytes2000: number }> = {};
const results: Record<
  string,
  {
    qos0: number;
    qos1: number;
    rssFlood: number;
    rssSteady: number;
    p50: number;
    p99: number;
    startMs: number;
    bytesPerReading: number;
    wireBytes: number;
    householdBytes: number;
    householdWire: number;
  }
> = {};
for (const [name, start] of targets) {
  process.stderr.write(`${name}: QoS 0 saturation... `);
  const q0 = await withTarget(start, (t) => saturate(t, 0, load));
  process.stderr.write(`${Math.round(q0.perSecond)}/s; QoS 1 saturation... `);
  const q1 = await withTarget(start, (t) => saturate(t, 1, load));
  process.stderr.write(`${Math.round(q1.perSecond)}/s; QoS 1 latency at ${steadyRate}/s... `);
  let startMs = 0;
  const lat = await withTarget(start, (t) => {
    startMs = t.startMs;
    return steadyLatency(t, steadyRate, load);
  });
  process.stderr.write(`p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`);
  let household = { bytesWrittenPerReading: Number.NaN, wireBytesPerReading: Number.NaN };
  if (name === 'trellis') {
    process.stderr.write(`; QoS 0 at ${HOUSEHOLD_RATE}/s... `);
    household = await withTarget(start, (t) => steadyLatency(t, HOUSEHOLD_RATE, { ...load, measureMs: load.measureMs * 2 }, 0));
    process.stderr.write(`${household.bytesWrittenPerReading.toFixed(0)} bytes written per reading; QoS 1 at ${HOUSEHOLD_RATE}/s... `);
    householdAcked = (await withTarget(start, (t) => steadyLatency(t, HOUSEHOLD_RATE, { ...load, measureMs: load.measureMs * 2 }, 1))).bytesWrittenPerReading;
    process.stderr.write(`${householdAcked.toFixed(0)}`);
  }
  const at = (rate: number, qos: 0 | 1) => withTarget(start, (t) => steadyLatency(t, rate, load, qos));
  const ack = steadyRate === ACK_RATE ? lat : await at(ACK_RATE, 1);
  process.stderr.write(`; QoS 1 at ${ACK_RATE}/s p50 ${ack.p50.toFixed(2)} ms; CPU at ${CPU_RATE}/s... `);
  const cpu0 = (await at(CPU_RATE, 0)).cpuUsPerReading;
  const cpu1 = (await at(CPU_RATE, 1)).cpuUsPerReading;
  process.stderr.write(`QoS 0 ${cpu0.toFixed(1)} µs, QoS 1 ${cpu1.toFixed(1)} µs per reading`);
  const bytes2000 = name !== 'trellis' ? Number.NaN : steadyRate === BYTES_RATE ? lat.bytesWrittenPerReading : (await at(BYTES_RATE, 1)).bytesWrittenPerReading;
  extra[name] = { ackP50: ack.p50, ackP99: ack.p99, cpu0, cpu1, bytes2000 };
  process.stderr.write('\n');
  results[name] = {
    qos0: q0.perSecond,
    qos1: q1.perSecond,
    rssFlood: Math.max(q0.rssMb, q1.rssMb),
    rssSteady: lat.rssMb,
    p50: lat.p50,
    p99: lat.p99,
    startMs,
    bytesPerReading: lat.bytesWrittenPerReading,
    wireBytes: lat.wireBytesPerReading,
    householdBytes: household.bytesWrittenPerReading,
    householdWire: household.wireBytesPerReading,
  };
}

// The same QoS 1 latency with the data on tmpfs, where an fsync costs nothing: what the disk adds.
let tmpfsAck: Awaited<ReturnType<typeof steadyLatency>> | undefined;
if (existsSync('/dev/shm')) {
  process.stderr.write(`trellis on tmpfs: QoS 1 at ${ACK_RATE}/s... `);
  tmpfsAck = await withTarget(
    (port) => startTrellis(port, load.devices, { dataRoot: '/dev/shm' }),
    (t) => steadyLatency(t, ACK_RATE, load, 1),
  );
  process.stderr.write(`p50 ${tmpfsAck.p50.toFixed(2)} ms, p99 ${tmpfsAck.p99.toFixed(2)} ms\n`);
}

// Rules: the pure engine against a raw loop, and sensor -> rule -> actuator through the broker.
process.stderr.write('rules engine: ');
engineThroughput(1000, quick ? 50_000 : 200_000); // warm-up
// best of three for both sides: a microbenchmark this short swings with the machine's noise
const engineRuns = [0, 1, 2].map(() => engineThroughput(1000, quick ? 300_000 : 1_000_000));
const engine = { engine: Math.max(...engineRuns.map((r) => r.engine)), raw: Math.max(...engineRuns.map((r) => r.raw)) };
process.stderr.write(`${Math.round(engine.engine)} events/s (raw loop ${Math.round(engine.raw)}/s)\n`);
const ruleDevices = load.devices;
const ruleRate = 1000;
process.stderr.write(`sensor -> rule -> actuator at ${ruleRate}/s, ${ruleDevices} devices and rules: `);
let coldStartMs = 0; // this target starts with every device registered (retained configs) and its rules
const probeFile = join(tmpdir(), `trellis-bench-loop-${process.pid}.json`);
const e2e = await withTarget(
  (port) => startTrellis(port, ruleDevices, { nativeConfig: chainDevice, rulesYaml: chainRules(ruleDevices), loopProbe: probeFile }),
  (t) => {
    coldStartMs = t.startMs;
    const mark = () => process.kill(t.pid, 'SIGUSR2');
    return ruleLatency(t, ruleDevices, ruleRate, load.warmupMs, load.measureMs, { start: mark, end: mark });
  },
);
/** the gateway's event-loop delay during the rule window (ms), from the preloaded probe */
const loopDelay = existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as Record<string, number>) : undefined;
rmSync(probeFile, { force: true });
process.stderr.write(loopDelay ? ` (event-loop delay p50 ${loopDelay.p50} ms, p99 ${loopDelay.p99} ms, max ${loopDelay.max} ms)` : '');
process.stderr.write(`p50 ${e2e.p50.toFixed(2)} ms, p99 ${e2e.p99.toFixed(2)} ms, lost ${e2e.lost}`);
let relay: typeof e2e | undefined;
if (hasMosquitto) {
  relay = await withTarget(startMosquitto, async (t) => {
    const stop = await startRelay(t.port, ruleDevices);
    try {
      return await ruleLatency(t, ruleDevices, ruleRate, load.warmupMs, load.measureMs);
    } finally {
      stop();
    }
  });
  process.stderr.write(`; mosquitto two-hop relay p50 ${relay.p50.toFixed(2)} ms, p99 ${relay.p99.toFixed(2)} ms`);
}
process.stderr.write('\n');

process.stderr.write('serial: polling 16 devices x 10 registers at 19,200 baud: ');
const serialBus = await busUtilisation(16, 10, 19_200, quick ? 3000 : 5000);
process.stderr.write(`${serialBus.utilisation.toFixed(3)} of the line's capacity\n`);

// RSS with many more devices connected, under the same steady load
const manyDevices = quick ? 1000 : 5000;
const many: Record<string, number> = {};
for (const [name, start] of targets.filter(([n]) => n !== 'mosquitto')) {
  process.stderr.write(`${name}: RSS with ${manyDevices} devices at ${steadyRate}/s... `);
  const manyLoad = { ...load, devices: manyDevices };
  const starter: Starter = name === 'trellis' ? (port) => startTrellis(port, manyDevices) : start;
  many[name] = (await withTarget(starter, (t) => steadyLatency(t, steadyRate, manyLoad))).rssMb;
  process.stderr.write(`${many[name]?.toFixed(1)} MB\n`);
}

let drain: Awaited<ReturnType<typeof outboxDrain>> | undefined;
if (hasMosquitto) {
  const records = quick ? 10_000 : 50_000;
  process.stderr.write(`cloud: draining ${records} queued records to mosquitto over TLS: `);
  drain = await outboxDrain(records);
  process.stderr.write(`${Math.round(drain.perSecond)}/s (bare MQTT.js client ${Math.round(drain.rawPerSecond)}/s)\n`);
}
process.stderr.write('metering: ingestion with and without the meter: ');
const meter = meteringCost(quick ? 60_000 : 300_000);
process.stderr.write(`${Math.round(meter.on)}/s on, ${Math.round(meter.off)}/s off\n`);

const t = results.trellis as NonNullable<(typeof results)['trellis']>;
const a = results['bare aedes'] as NonNullable<(typeof results)['trellis']>;
const m = results.mosquitto;
const { figures, add } = figureList();
const n = load.devices;

add(`stored readings/s, QoS 0, ${n} devices`, t.qos0, 'readings/s', 'bare aedes ingesting (no storage)', a.qos0, '>= 0.8x bare aedes', t.qos0 >= 0.8 * a.qos0);
if (m) add(`stored readings/s, QoS 0, ${n} devices`, t.qos0, 'readings/s', 'mosquitto relaying to 1 subscriber', m.qos0, null, null);
add(`stored readings/s, QoS 1 (acked after commit), ${n} devices`, t.qos1, 'readings/s', 'bare aedes ingesting (no storage)', a.qos1, null, null);
if (m) add(`stored readings/s, QoS 1 (acked after commit), ${n} devices`, t.qos1, 'readings/s', 'mosquitto relaying to 1 subscriber', m.qos1, null, null);
const tx = extra.trellis as NonNullable<(typeof extra)['trellis']>;
const ax = extra['bare aedes'] as NonNullable<(typeof extra)['trellis']>;
const mx = extra.mosquitto;
add('fsync p50 on the data disk (a 1 KB append + fdatasync)', fsyncMs, 'ms', null, null, null, null);
add(
  `publish-to-committed p50, QoS 1 at ${ACK_RATE}/s (group commit: one commit and one fsync)`,
  tx.ackP50,
  'ms',
  'bare aedes publish-to-PUBACK p50',
  ax.ackP50,
  `<= 3x bare aedes + one fsync (${(3 * ax.ackP50 + fsyncMs).toFixed(2)} ms)`,
  tx.ackP50 <= 3 * ax.ackP50 + fsyncMs,
);
add(`publish-to-committed p99, QoS 1 at ${ACK_RATE}/s`, tx.ackP99, 'ms', 'bare aedes publish-to-PUBACK p99', ax.ackP99, null, null);
if (mx) add(`publish-to-committed p99, QoS 1 at ${ACK_RATE}/s`, tx.ackP99, 'ms', 'mosquitto publish-to-PUBACK p99', mx.ackP99, null, null);
if (tmpfsAck)
  add(`publish-to-committed p50, QoS 1 at ${ACK_RATE}/s, data on tmpfs (no fsync cost)`, tmpfsAck.p50, 'ms', 'the same on the disk', tx.ackP50, null, null);
if (steadyRate !== ACK_RATE) {
  add(
    `publish-to-committed p50, QoS 1 at ${steadyRate}/s (the wear guard holds commits for 50 readings)`,
    t.p50,
    'ms',
    'bare aedes publish-to-PUBACK p50',
    a.p50,
    null,
    null,
  );
  add(`publish-to-committed p99, QoS 1 at ${steadyRate}/s`, t.p99, 'ms', 'bare aedes publish-to-PUBACK p99', a.p99, null, null);
  if (m) add(`publish-to-committed p99, QoS 1 at ${steadyRate}/s`, t.p99, 'ms', 'mosquitto publish-to-PUBACK p99', m.p99, null, null);
}
add(
  `RSS with ${n} devices at ${steadyRate} readings/s`,
  t.rssSteady,
  'MB',
  'bare aedes RSS',
  a.rssSteady,
  '<= 1.25x bare aedes',
  t.rssSteady <= 1.25 * a.rssSteady,
);
if (m) add(`RSS with ${n} devices at ${steadyRate} readings/s`, t.rssSteady, 'MB', 'mosquitto RSS', m.rssSteady, null, null);
add(`peak RSS with ${n} devices at saturation`, t.rssFlood, 'MB', 'bare aedes RSS', a.rssFlood, '<= 1.4x bare aedes', t.rssFlood <= 1.4 * a.rssFlood);
for (const [qos, key] of [
  [0, 'cpu0'],
  [1, 'cpu1'],
] as const) {
  const what = `CPU per reading, QoS ${qos} at a steady ${CPU_RATE}/s, ${n} devices`;
  add(what, tx[key], 'µs', 'bare aedes CPU per reading', ax[key], '<= 1.5x bare aedes', tx[key] <= 1.5 * ax[key]);
  if (mx) add(what, tx[key], 'µs', 'mosquitto CPU per reading', mx[key], null, null);
}
add(`RSS with ${manyDevices} devices at ${steadyRate} readings/s`, many.trellis ?? Number.NaN, 'MB', 'bare aedes RSS', many['bare aedes'] ?? null, null, null);
add(
  `cold start to serving, ${ruleDevices} registered devices and ${ruleDevices} rules`,
  coldStartMs,
  'ms',
  'bare aedes start to serving',
  a.startMs,
  '<= 2x bare aedes',
  coldStartMs <= 2 * a.startMs,
);
add(
  `bytes written to disk per stored reading (QoS 0 at ${HOUSEHOLD_RATE}/s)`,
  t.householdBytes,
  'bytes',
  "the reading's PUBLISH packet on the wire",
  t.householdWire,
  '<= 200 bytes',
  t.householdBytes <= 200,
);
add(`disk writes per day at ${HOUSEHOLD_RATE} readings/s (QoS 0)`, (t.householdBytes * HOUSEHOLD_RATE * 86_400) / 1e9, 'GB/day', null, null, null, null);
add(`bytes written to disk per stored reading (QoS 1 at ${HOUSEHOLD_RATE}/s: about a commit per reading)`, householdAcked, 'bytes', null, null, null, null);
add(
  `bytes written to disk per stored reading (QoS 1 at ${BYTES_RATE}/s, the wear guard on)`,
  tx.bytes2000,
  'bytes',
  "the reading's PUBLISH packet on the wire",
  t.wireBytes,
  '<= 200 bytes',
  tx.bytes2000 <= 200,
);
if (steadyRate !== BYTES_RATE) add(`bytes written to disk per stored reading (QoS 1 at ${steadyRate}/s)`, t.bytesPerReading, 'bytes', null, null, null, null);

add(
  'rule evaluation, 1000 rules',
  engine.engine,
  'events/s',
  'raw Map lookup + compare loop, same events',
  engine.raw,
  '>= 0.3x the raw loop',
  engine.engine >= 0.3 * engine.raw,
);
add(
  `sensor -> rule -> actuator p50, ${ruleRate} events/s, ${ruleDevices} devices and rules`,
  e2e.p50,
  'ms',
  relay ? 'two-hop relay through mosquitto p50' : null,
  relay?.p50 ?? null,
  null,
  null,
);
add(
  `sensor -> rule -> actuator p99, ${ruleRate} events/s, ${ruleDevices} devices and rules`,
  e2e.p99,
  'ms',
  relay ? 'two-hop relay through mosquitto p99' : null,
  relay?.p99 ?? null,
  relay ? '<= 1.2x the mosquitto relay' : null,
  relay ? e2e.p99 <= 1.2 * relay.p99 : null,
);
if (loopDelay)
  for (const q of ['p50', 'p90', 'p99', 'p999', 'max'] as const)
    add(`the gateway's event-loop delay ${q} during that window (beyond a 1 ms timer)`, loopDelay[q] ?? Number.NaN, 'ms', null, null, null, null);
add(`sensor -> rule -> actuator commands lost`, e2e.lost, 'commands', null, null, '0', e2e.lost === 0);

add(
  'serial bus utilisation, 16 devices x 10 registers at 19,200 baud',
  serialBus.bytesPerSecond,
  'bytes/s',
  "the line's capacity (baud / 11)",
  serialBus.capacity,
  '>= 0.7 of capacity',
  serialBus.utilisation >= 0.7,
);

if (drain)
  add(
    'outbox drain after an outage, to mosquitto over TLS (QoS 1, deleted on PUBACK)',
    drain.perSecond,
    'records/s',
    'bare MQTT.js client publishing the same records, same window',
    drain.rawPerSecond,
    '>= 5,000 records/s',
    drain.perSecond >= 5000,
  );
add('history commits with metering on, 1,000 metered devices', meter.on, 'readings/s', 'the same commits with metering off', meter.off, null, null);

const out = { date: new Date().toISOString(), quick, machine: { cores: cpus().length, node: process.version }, figures };
const dir = join(projectRoot(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
const fmt = (x: number) => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(x));
const markdown = [
  '| figure | Trellis | baseline | baseline value | ratio | goal |',
  '|---|---|---|---|---|---|',
  ...figures.map(
    (f) =>
      `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ?? ''} | ${f.baselineValue === null ? '' : fmt(f.baselineValue)} | ${f.ratio === null ? '' : `${f.ratio}x`} | ${f.goal ? `${f.goal}: **${f.met ? 'met' : 'missed'}**` : ''} |`,
  ),
].join('\n');
writeFileSync(join(dir, 'latest.md'), `${markdown}\n`);

const rows = figures.map((f) => [
  f.name,
  `${f.value} ${f.unit}`,
  f.baseline ?? '',
  f.baselineValue === null ? '' : `${f.baselineValue}`,
  f.ratio === null ? '' : `${f.ratio}x`,
  f.goal ? `${f.goal}: ${f.met ? 'met' : 'MISSED'}` : '',
]);
const header = ['figure', 'trellis', 'baseline', 'baseline value', 'ratio', 'goal'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));
if (!hasMosquitto) console.log('\n(mosquitto not installed: apt-get install mosquitto for that baseline)');
console.log(`\nwritten to bench/results/latest.json and latest.md`);
