/** One benchmark figure, next to the baseline measured in the same run (the shape of bench/results/*.json). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: string | null;
  baselineValue: number | null;
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A run's figures, and how to add one: the ratio is computed against the baseline. */
export function figureList() {
  const figures: Figure[] = [];
  const add = (name: string, value: number, unit: string, baseline: string | null, baselineValue: number | null, goal: string | null, met: boolean | null) =>
    figures.push({
      name,
      value: round(value),
      unit,
      baseline,
      baselineValue: baselineValue === null ? null : round(baselineValue),
      ratio: baselineValue ? round(value / baselineValue, 3) : null,
      goal,
      met,
    });
  return { figures, add };
}

export type FigureList = ReturnType<typeof figureList>;

/** The `q` quantile (0-1) of an ascending list, by rank (NaN when empty). */
export const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
