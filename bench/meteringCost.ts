import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DeviceEvent } from '../drivers/types.ts';
import { realClock } from '../gateway/clock.ts';
import { MeteringService } from '../gateway/metering/service.ts';
import { openDb } from '../gateway/store/db.ts';
import { HistoryWriter } from '../gateway/store/historyWriter.ts';
import { DeviceRegistry } from '../gateway/store/registry.ts';
import { gatewayBus } from '../gateway/core/events.ts';
import { UsageStore } from '../gateway/store/usage.ts';
import { PersistentCounters } from '../gateway/store/counters.ts';

/**
 * What metering adds to ingestion: `readings` readings of 1,000 fridges (energy counter, compressor,
 * temperature; all metered) committed through the history writer in the gateway's batch size, with
 * and without the meter in the writer's transaction. Best of three each, alternating.
 */
export function meteringCost(readings: number): { on: number; off: number } {
  const best = { on: 0, off: 0 };
  for (let round = 0; round < 3; round++) {
    for (const metering of [false, true]) {
      const perSecond = run(readings, metering);
      const key = metering ? 'on' : 'off';
      if (perSecond > best[key]) best[key] = perSecond;
    }
  }
  return best;
}

function run(readings: number, metering: boolean): number {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-meter-'));
  const db = openDb(join(dir, 'trellis.db'), { synchronous: 'normal' });
  try {
    const registry = new DeviceRegistry(db);
    for (let d = 0; d < 1000; d++) {
      registry.upsert({
        id: `fridge-${d}`,
        name: `Fridge ${d}`,
        protocol: 'mqtt',
        owner: `fridge-${d}`,
        attributes: {
          energy: { type: 'number', unit: 'kWh', stateClass: 'total_increasing', writable: false },
          compressor: { type: 'boolean', deviceClass: 'running', writable: false },
          temperature: { type: 'number', unit: '°C', deviceClass: 'temperature', writable: false },
        },
      });
    }
    const writer = new HistoryWriter(db, registry, { flushMs: 1000, batchSize: 2000, lastValuesEveryMs: 300_000 });
    const service = metering
      ? new MeteringService({
          store: new UsageStore(db, registry, new PersistentCounters(db)),
          registry,
          bus: gatewayBus(() => undefined),
          writer,
          clock: realClock,
          log: pino({ level: 'silent' }),
          timeZone: 'UTC',
          overrides: {},
        })
      : undefined;
    service?.start();
    const events: DeviceEvent[] = [];
    const now = Date.now();
    for (let i = 0; i < readings; i++) {
      const d = i % 1000;
      const k = Math.floor(i / 1000);
      const attribute = (['energy', 'compressor', 'temperature'] as const)[k % 3] as string;
      const value = attribute === 'energy' ? 100 + k * 0.01 : attribute === 'compressor' ? k % 2 === 0 : 4 + (k % 7) / 10;
      events.push({ kind: 'reading', deviceId: `fridge-${d}`, attribute, value, ts: now + i });
    }
    const started = performance.now();
    for (let i = 0; i < events.length; i += 100) writer.append(events.slice(i, i + 100));
    writer.flush();
    const seconds = (performance.now() - started) / 1000;
    service?.stop();
    return readings / seconds;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
