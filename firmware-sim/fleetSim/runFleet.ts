import type { SimGateway } from './simGateway.ts';

export interface RunOptions {
  /** the simulated start, ms */
  readonly from: number;
  /** simulated time to run, ms */
  readonly forMs: number;
  /** simulated ms per real ms: 60 runs an hour in a minute */
  readonly speed: number;
  /** real ms between ticks */
  readonly tickMs?: number;
  readonly signal?: AbortSignal;
  /** called after each tick with the simulated time */
  readonly onTick?: (simNow: number) => void;
}

/**
 * Drives simulated gateways on a clock that runs `speed` times faster than real time: every tick
 * each gateway sends the health of the minutes passed and closes the hours passed. Resolves with
 * the simulated time reached (at `from + forMs`, or when `signal` aborts).
 */
export async function runFleet(gateways: readonly SimGateway[], o: RunOptions): Promise<number> {
  const t0 = performance.now();
  const simNow = () => Math.min(o.from + o.forMs, o.from + (performance.now() - t0) * o.speed);
  for (const g of gateways) g.tick(o.from);
  let now = o.from;
  while (now < o.from + o.forMs && !o.signal?.aborted) {
    await new Promise((r) => setTimeout(r, o.tickMs ?? 50));
    now = simNow();
    for (const g of gateways) g.tick(now);
    o.onTick?.(now);
  }
  return now;
}
