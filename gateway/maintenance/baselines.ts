import type { UsageStore } from '../store/usage.ts';
import type { UsageBucket } from '../../protocol/index.ts';

const HOUR_MS = 3_600_000;

/**
 * Each device's own recent history of an hourly quantity (duty cycle, mean temperature), for drift:
 * the mean over the `days` before a bucket. Loaded from the stored buckets the first time a device
 * is asked about, then kept in memory.
 */
export class Baselines {
  readonly #usage: Pick<UsageStore, 'bucketData'>;
  readonly #days: number;
  readonly #minSamples: number;
  readonly #values = new Map<string, Array<{ start: number; value: number }>>();
  readonly #loaded = new Set<string>();
  /** How to read the quantity back out of a stored bucket (set by whoever pushes values). */
  readonly #extract: (bucket: UsageBucket, attribute: string) => number | undefined;

  constructor(usage: Pick<UsageStore, 'bucketData'>, extract: (bucket: UsageBucket, attribute: string) => number | undefined, days = 7, minSamples = 24) {
    this.#usage = usage;
    this.#extract = extract;
    this.#days = days;
    this.#minSamples = minSamples;
  }

  /** The mean of the values in the `days` before `before`; undefined with fewer than `minSamples`. */
  mean(deviceId: string, attribute: string, before: number): number | undefined {
    this.#load(deviceId, before);
    const from = before - this.#days * 24 * HOUR_MS;
    const values = (this.#values.get(`${deviceId}\u0000${attribute}`) ?? []).filter((v) => v.start >= from && v.start < before);
    if (values.length < this.#minSamples) return undefined;
    return values.reduce((s, v) => s + v.value, 0) / values.length;
  }

  push(deviceId: string, attribute: string, start: number, value: number): void {
    const key = `${deviceId}\u0000${attribute}`;
    const list = this.#values.get(key) ?? [];
    if (!list.some((v) => v.start === start)) list.push({ start, value });
    const from = start - this.#days * 24 * HOUR_MS;
    while (list.length > 0 && (list[0] as { start: number }).start < from) list.shift();
    this.#values.set(key, list);
  }

  #load(deviceId: string, before: number): void {
    if (this.#loaded.has(deviceId)) return;
    this.#loaded.add(deviceId);
    for (const data of this.#usage.bucketData(deviceId, before - this.#days * 24 * HOUR_MS, before)) {
      const b = JSON.parse(data) as UsageBucket;
      for (const attribute of Object.keys(b.metrics)) {
        const v = this.#extract(b, attribute);
        if (v !== undefined) this.push(deviceId, attribute, b.start, v);
      }
    }
  }
}
