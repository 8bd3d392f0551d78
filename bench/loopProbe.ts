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
      const ms = (p: number) => Math.round((h.percentile(p) / 1e6) * 1000) / 1000;
      writeFileSync(
        file,
        JSON.stringify({ p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: Math.round(h.max / 1e3) / 1e3, mean: Math.round(h.mean / 1e3) / 1e3 }),
      );
    }
    marked = true;
    h.reset();
  });
}
