/** The Metric contract (a named map from judge results to a value with its CI) and the metric factories judges declare. */
import type { Grade, JudgeResult } from "./judge-result.js";
import { type Estimate, meanCi, wilsonCi } from "./stats.js";

/** A metric's value: an estimate over the scored items plus how many items were left out as unscored. */
export interface MetricValue extends Estimate {
  /** Metric name, e.g. "mean_bias". */
  name: string;
  /** Items that could not be scored and were excluded (reported, never silently defaulted). */
  unscored: number;
}

/** Maps one run's judge results to a value with its CI. */
export interface Metric {
  readonly name: string;
  /** One line for report tooltips, e.g. "mean bias magnitude (0-10), Student-t 95% CI over items". */
  readonly description: string;
  compute(results: readonly JudgeResult[]): MetricValue;
}

/** Reads a number from a result: `score` by default, or a named entry of `values` (e.g. "lean"). */
function pick(r: JudgeResult, key: string | undefined): number | null {
  if (key === undefined) return r.score;
  return r.values?.[key] ?? null;
}

function empty(name: string, unscored: number): MetricValue {
  return { name, mean: NaN, lo: NaN, hi: NaN, n: 0, unscored, method: "none (no scored items)" };
}

/**
 * Mean of `score` (or of `values[of]`) over scored items, with a Student-t CI over items. Unscored items (null) are
 * dropped and counted in `unscored`; with no scored item the value is NaN (a report shows "n/a"), never 0.
 */
export function meanMetric(
  options: {
    name?: string;
    of?: string;
    level?: number;
    description?: string;
    /** Where the values can lie (a rate: [0, 1]; a count: [0, Infinity]): the CI is clipped to it. */
    range?: readonly [number, number];
  } = {},
): Metric {
  const name = options.name ?? (options.of ? `mean_${options.of}` : "mean");
  return {
    name,
    description: options.description ?? `mean of ${options.of ?? "score"}, Student-t CI over items`,
    compute(results) {
      const xs: number[] = [];
      for (const r of results) {
        const v = pick(r, options.of);
        if (v !== null) xs.push(v);
      }
      if (xs.length === 0) return empty(name, results.length);
      const e = meanCi(xs, options.level ?? 0.95);
      const [lo, hi] = options.range ?? [-Infinity, Infinity];
      return { name, unscored: results.length - xs.length, ...e, lo: Math.max(lo, e.lo), hi: Math.min(hi, e.hi) };
    },
  };
}

/** Share of scored items whose grade is `grade`, with a Wilson CI; items with no grade count as unscored. */
export function gradeShareMetric(grade: Grade, options: { name?: string; level?: number } = {}): Metric {
  const name = options.name ?? `share_${grade.toLowerCase()}`;
  return {
    name,
    description: `share of graded items graded ${grade}, Wilson CI`,
    compute(results) {
      let hit = 0;
      let graded = 0;
      for (const r of results) {
        if (r.grade === null) continue;
        graded++;
        if (r.grade === grade) hit++;
      }
      if (graded === 0) return empty(name, results.length);
      return { name, unscored: results.length - graded, ...wilsonCi(hit, graded, options.level ?? 0.95) };
    },
  };
}

/** Share of scored items whose score satisfies `test` (e.g. "called correct"), with a Wilson CI. */
export function thresholdShareMetric(
  name: string,
  test: (score: number) => boolean,
  options: { of?: string; level?: number; description?: string } = {},
): Metric {
  return {
    name,
    description: options.description ?? `share of scored items meeting ${name}, Wilson CI`,
    compute(results) {
      let hit = 0;
      let n = 0;
      for (const r of results) {
        const v = pick(r, options.of);
        if (v === null) continue;
        n++;
        if (test(v)) hit++;
      }
      if (n === 0) return empty(name, results.length);
      return { name, unscored: results.length - n, ...wilsonCi(hit, n, options.level ?? 0.95) };
    },
  };
}

/** Computes every metric of a record over the same results, by name. */
export function computeMetrics(
  metrics: Readonly<Record<string, Metric>>,
  results: readonly JudgeResult[],
): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  for (const [key, m] of Object.entries(metrics)) out[key] = m.compute(results);
  return out;
}
