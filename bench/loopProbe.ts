// Preloaded into a gateway under benchmark (node --import): its event-loop delay over a window the
// benchmark marks with SIGUSR2 (the first resets the histogram, the next writes it to the file named by
// TRELLIS_LOOP_PROBE and resets again). Benchmark-only: nothing in the gateway knows of it.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.TRELLIS_LOOP_PROBE;
const RESOLUTION_MS = 1;
if (file) {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  let marked = false;
  process.on('SIGUSR2', () => {
    if (marked) {
      // each sample is the interval of a 1 ms timer: the delay is what it took beyond that 1 ms
      const late = (ns: number) => Math.round(Math.max(0, ns / 1e6 - RESOLUTION_MS) * 1000) / 1000;
      const q = (p: number) => late(h.percentile(p));
      writeFileSync(file, JSON.stringify({ p50: q(50), p90: q(90), p99: q(99), p999: q(99.9), max: late(h.max), mean: late(h.mean) }));
    }
    marked = true;
    h.reset();
  });
}
