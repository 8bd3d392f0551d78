import { seededRandom } from '../clock.ts';

const DAY = 86_400_000;

/**
 * A region's outdoor temperature: the season (coldest mid-January, warmest mid-July), a weather
 * pattern that wanders from day to day (an AR(1) process: warm spells, cold snaps) shared by every
 * site of the region, and the day's swing (coldest at 05:00, warmest at 15:00). Seeded, so a run
 * can be repeated.
 */
export class Weather {
  readonly #daily = new Map<number, number>();
  readonly #rand: () => number;
  #lastDay: number | undefined;
  #anomaly = 0;

  constructor(
    seed: number,
    readonly meanC = 11,
    readonly seasonC = 9,
  ) {
    this.#rand = seededRandom(seed);
  }

  /** °C outdoors at `t` (ms). Days must be asked for in order the first time. */
  outdoor(t: number): number {
    const day = Math.floor(t / DAY);
    let anomaly = this.#daily.get(day);
    if (anomaly === undefined) {
      while (this.#lastDay === undefined || this.#lastDay < day) {
        this.#lastDay = this.#lastDay === undefined ? day : this.#lastDay + 1;
        this.#anomaly = 0.8 * this.#anomaly + 2.2 * gaussian(this.#rand);
        this.#daily.set(this.#lastDay, this.#anomaly);
      }
      anomaly = this.#daily.get(day) ?? 0;
    }
    const yearPhase = ((t / DAY - 196) / 365.25) * 2 * Math.PI; // 196: mid-July
    const hour = (t % DAY) / 3_600_000;
    const diurnal = -3 * Math.cos(((hour - 3) / 24) * 2 * Math.PI);
    return this.meanC + this.seasonC * Math.cos(yearPhase) + anomaly + diurnal;
  }
}

/** A standard normal draw (Box-Muller). */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** A Poisson draw with mean `lambda` (small means: Knuth's method). */
export function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}
