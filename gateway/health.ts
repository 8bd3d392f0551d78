import { statSync, statfsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Driver } from '../drivers/types.ts';
import type { Hub } from './hub.ts';
import type { DeviceRegistry } from './store/registry.ts';
import type { CloudLinkStatus } from './cloud/link.ts';
import type { Outbox } from './store/outbox.ts';
import type { HealthData } from '../protocol/index.ts';

export interface HealthDeps {
  readonly dataDir: string;
  readonly dbFile: string;
  readonly hub: Hub;
  readonly registry: DeviceRegistry;
  readonly drivers: () => readonly Driver[];
  /** the cloud outbox, when cloud sync is configured */
  readonly outbox: () => Outbox | undefined;
  readonly link: () => CloudLinkStatus | undefined;
  readonly meteringErrors: () => number;
  readonly now: () => number;
}

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** Samples the gateway's health; CPU and event-loop lag are over the time since the last `sample()`. */
export class HealthSampler {
  readonly #d: HealthDeps;
  readonly #started = process.hrtime.bigint();
  readonly #loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  #cpu = process.cpuUsage();
  #cpuAt = process.hrtime.bigint();

  constructor(deps: HealthDeps) {
    this.#d = deps;
    this.#loop.enable();
  }

  /** The health since the last `sample()`, and starts a new window (the periodic health record). */
  sample(): HealthData {
    const h = this.peek();
    this.#cpu = process.cpuUsage();
    this.#cpuAt = process.hrtime.bigint();
    this.#loop.reset();
    return h;
  }

  /** The health since the last `sample()`, leaving the window as it is (diagnostics, metrics scrapes). */
  peek(): HealthData {
    const d = this.#d;
    const nowHr = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.#cpu);
    const wallUs = Number(nowHr - this.#cpuAt) / 1000;
    const lagP99Ms = Number.isNaN(this.#loop.percentile(99)) ? 0 : this.#loop.percentile(99) / 1e6;
    const lagMaxMs = this.#loop.max / 1e6;
    let freeBytes: number | null = null;
    try {
      const fs = statfsSync(d.dataDir);
      freeBytes = fs.bavail * fs.bsize;
    } catch {
      freeBytes = null;
    }
    const outbox = d.outbox()?.stats() ?? { depth: 0, bytes: 0, maxBytes: 0, oldestAt: null, byPriority: [] };
    const mem = process.memoryUsage();
    let known = 0;
    let online = 0;
    for (const device of d.registry.all()) {
      known++;
      if (d.hub.state.isOnline(device.id)) online++;
    }
    const link = d.link();
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      uptimeS: Math.round(Number(nowHr - this.#started) / 1e9),
      eventLoop: { lagP99Ms: round(lagP99Ms), lagMaxMs: round(lagMaxMs) },
      cpu: { percent: wallUs > 0 ? round(((cpu.user + cpu.system) / wallUs) * 100) : 0, load1: round(loadavg()[0] ?? 0) },
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      disk: { freeBytes, databaseBytes: sizeOf(d.dbFile) + sizeOf(`${d.dbFile}-wal`) },
      outbox: {
        depth: outbox.depth,
        bytes: outbox.bytes,
        maxBytes: outbox.maxBytes,
        oldestAgeS: outbox.oldestAt === null ? null : Math.max(0, Math.round((d.now() - outbox.oldestAt) / 1000)),
        dropped: Object.fromEntries(outbox.byPriority.map((p) => [p.priority, p.dropped])),
      },
      drivers: Object.fromEntries(d.drivers().map((drv) => [drv.protocol, { ...drv.counters() }])),
      hub: { ...d.hub.counters() },
      devices: { known, online },
      cloud: { connects: link?.connects ?? 0, published: link?.published ?? 0, acked: link?.acked ?? 0, refused: link?.refused ?? 0 },
      metering: { errors: d.meteringErrors() },
    };
  }

  close(): void {
    this.#loop.disable();
  }
}
