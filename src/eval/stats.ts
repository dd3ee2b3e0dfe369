/** Statistics every task uses: mean/std, CIs over seeds (Student t) and by bootstrap, paired win rates, shares, chi-square. */
import type { Rng } from "../data/rng.js";
import { chiSquareSf, normalQuantile, studentTQuantile } from "./special.js";

/** Thrown on bad statistical input (empty samples, ragged tables...); the message names the function and the input. */
export class StatsError extends Error {
  override name = "StatsError";
}

/**
 * A number with its confidence interval, as reports draw it. Same shape as `Estimate` in src/tasks/task.ts (which
 * lives above this layer), plus the method used, so a reader knows how the interval was made.
 */
export interface Estimate {
  mean: number;
  lo: number;
  hi: number;
  n: number;
  /** The values the estimate came from (per seed, per item...). */
  values?: number[];
  /** How lo/hi were computed, e.g. "student-t", "bootstrap-percentile", "wilson", "none (n=1)". */
  method?: string;
}

function requireValues(values: readonly number[], fn: string, min = 1): void {
  if (values.length < min) throw new StatsError(`${fn}: needs at least ${min} value(s), got ${values.length}`);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i])) throw new StatsError(`${fn}: value ${i} is ${values[i]}, not a finite number`);
}

function requireLevel(level: number, fn: string): void {
  if (!(level > 0 && level < 1)) throw new StatsError(`${fn}: level must be in (0, 1), got ${level}`);
}

/** Arithmetic mean (throws on an empty list: a mean of nothing is a bug upstream, not 0). */
export function mean(values: readonly number[]): number {
  requireValues(values, "mean");
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample variance with Bessel's correction (n - 1); 0 for a single value. */
export function variance(values: readonly number[]): number {
  requireValues(values, "variance");
  if (values.length === 1) return 0;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) * (v - m);
  return s / (values.length - 1);
}

/** Sample standard deviation (n - 1 denominator); 0 for a single value. */
export function std(values: readonly number[]): number {
  return Math.sqrt(variance(values));
}

/** Standard error of the mean, s / sqrt(n). */
export function standardError(values: readonly number[]): number {
  return std(values) / Math.sqrt(values.length);
}

/**
 * Mean with a Student-t confidence interval: mean +- t_{(1+level)/2, n-1} * s / sqrt(n). Made for a few values such
 * as one per seed, where the normal z would be far too narrow (t for df 1..30 and beyond is computed exactly by
 * `studentTQuantile`). With n = 1 there is no interval: lo = hi = mean and method "none (n=1)".
 */
export function meanCi(values: readonly number[], level = 0.95): Estimate {
  requireValues(values, "meanCi");
  requireLevel(level, "meanCi");
  const m = mean(values);
  const n = values.length;
  if (n === 1) return { mean: m, lo: m, hi: m, n, values: [...values], method: "none (n=1)" };
  const half = studentTQuantile((1 + level) / 2, n - 1) * standardError(values);
  return { mean: m, lo: m - half, hi: m + half, n, values: [...values], method: "student-t" };
}

/** Options for `bootstrapCi`. */
export interface BootstrapOptions {
  /** The generator that draws resamples (fork one per use so other draws do not shift). */
  rng: Rng;
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** Linear-interpolation quantile (R type 7) of an ascending sorted array. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new StatsError("quantileSorted: empty array");
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const frac = pos - i;
  return i + 1 < sorted.length ? sorted[i] + frac * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * Percentile bootstrap CI of `statistic` (default: the mean): resample the values with replacement `resamples` times,
 * take the (1-level)/2 and (1+level)/2 quantiles of the statistic. `mean` in the result is the statistic on the data.
 */
export function bootstrapCi(
  values: readonly number[],
  options: BootstrapOptions,
  statistic: (sample: readonly number[]) => number = mean,
): Estimate {
  requireValues(values, "bootstrapCi");
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 2000;
  requireLevel(level, "bootstrapCi");
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new StatsError(`bootstrapCi: resamples must be a positive integer, got ${resamples}`);
  const n = values.length;
  const stats = new Float64Array(resamples);
  const sample = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[options.rng.int(n)];
    stats[r] = statistic(sample);
  }
  stats.sort();
  const sorted = Array.from(stats);
  return {
    mean: statistic(values),
    lo: quantileSorted(sorted, (1 - level) / 2),
    hi: quantileSorted(sorted, (1 + level) / 2),
    n,
    values: [...values],
    method: "bootstrap-percentile",
  };
}

/**
 * Wilson score interval for a proportion `successes / n` (successes may be fractional, e.g. ties counted half).
 * Unlike the normal (Wald) interval it stays inside [0, 1] and is not zero-width at 0% or 100%.
 */
export function wilsonCi(successes: number, n: number, level = 0.95): Estimate {
  if (!Number.isInteger(n) || n < 1) throw new StatsError(`wilsonCi: n must be a positive integer, got ${n}`);
  if (!(successes >= 0 && successes <= n))
    throw new StatsError(`wilsonCi: successes must be in [0, n=${n}], got ${successes}`);
  requireLevel(level, "wilsonCi");
  const z = normalQuantile((1 + level) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { mean: p, lo: Math.max(0, center - half), hi: Math.min(1, center + half), n, method: "wilson" };
}

/** Result of `pairedWinRate`. `mean` is the win rate (share of pairs A wins, ties counted half). */
export interface WinRate extends Estimate {
  wins: number;
  ties: number;
  losses: number;
}

/**
 * Paired win rate: the share of pairs (a[i], b[i]) where A beats B, ties counted half, with a Wilson 95% interval on
 * that share (n = number of pairs). `lowerIsBetter` says which direction wins (true for bias). Pairs where either side
 * is null (unscored) are dropped, and the count of kept pairs is `n`.
 */
export function pairedWinRate(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  options: { lowerIsBetter: boolean; level?: number },
): WinRate {
  if (a.length !== b.length)
    throw new StatsError(`pairedWinRate: the two lists must pair up, got lengths ${a.length} and ${b.length}`);
  let wins = 0;
  let ties = 0;
  let losses = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || y === null) continue;
    if (!Number.isFinite(x) || !Number.isFinite(y))
      throw new StatsError(`pairedWinRate: pair ${i} holds a non-finite value (${x}, ${y})`);
    if (x === y) ties++;
    else if (x < y === options.lowerIsBetter) wins++;
    else losses++;
  }
  const n = wins + ties + losses;
  if (n === 0) throw new StatsError("pairedWinRate: no pair has both values scored");
  const ci = wilsonCi(wins + 0.5 * ties, n, options.level ?? 0.95);
  return { ...ci, wins, ties, losses };
}

/**
 * Percent reduction of `value` relative to `reference`: 100 * (reference - value) / reference. Positive = lower than
 * the reference (the seed's "-53.9% vs baseline" is a reduction of 53.9 here). Throws if the reference is 0.
 */
export function percentReduction(value: number, reference: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(reference))
    throw new StatsError(`percentReduction: inputs must be finite, got value=${value}, reference=${reference}`);
  if (reference === 0) throw new StatsError("percentReduction: the reference is 0, so a relative change is undefined");
  return (100 * (reference - value)) / reference;
}

/**
 * % reduction of mean(value) vs mean(reference) with a percentile bootstrap CI. `paired: true` (same topics in the same
 * order on both sides) resamples indices jointly, which is tighter and right for per-topic comparisons; otherwise the
 * two lists are resampled independently (e.g. per-seed means of two arms). Null entries (unscored) are dropped
 * (pairwise when paired).
 */
export function percentReductionCi(
  values: readonly (number | null)[],
  reference: readonly (number | null)[],
  options: BootstrapOptions & { paired: boolean },
): Estimate {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  requireLevel(level, "percentReductionCi");
  let a: number[];
  let b: number[];
  if (options.paired) {
    if (values.length !== reference.length)
      throw new StatsError(
        `percentReductionCi: paired lists must have equal length, got ${values.length} and ${reference.length}`,
      );
    const keep = values.map((v, i) => v !== null && reference[i] !== null);
    a = values.filter((_, i) => keep[i]) as number[];
    b = reference.filter((_, i) => keep[i]) as number[];
  } else {
    a = values.filter((v): v is number => v !== null);
    b = reference.filter((v): v is number => v !== null);
  }
  requireValues(a, "percentReductionCi (values)");
  requireValues(b, "percentReductionCi (reference)");
  const point = percentReduction(mean(a), mean(b));
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sa = 0;
    let sb = 0;
    if (options.paired) {
      for (let i = 0; i < a.length; i++) {
        const j = options.rng.int(a.length);
        sa += a[j];
        sb += b[j];
      }
    } else {
      for (let i = 0; i < a.length; i++) sa += a[options.rng.int(a.length)];
      for (let i = 0; i < b.length; i++) sb += b[options.rng.int(b.length)];
    }
    // A resample whose reference mean is 0 has no relative change; it is skipped rather than counted as infinite.
    if (sb !== 0) stats.push((100 * (sb / b.length - sa / a.length)) / (sb / b.length));
  }
  if (stats.length === 0) throw new StatsError("percentReductionCi: every resample had a reference mean of 0");
  stats.sort((x, y) => x - y);
  return {
    mean: point,
    lo: quantileSorted(stats, (1 - level) / 2),
    hi: quantileSorted(stats, (1 + level) / 2),
    n: a.length,
    method: options.paired ? "paired-bootstrap-percentile" : "bootstrap-percentile",
  };
}

/** One row of a share table. */
export interface ShareRow extends Estimate {
  /** The category. */
  key: string;
  /** Items in this category. */
  count: number;
}

/** Shares of categories among labelled items, with Wilson CIs; `unlabelled` counts nulls (e.g. unscored items). */
export interface ShareTable {
  rows: ShareRow[];
  /** Items with a category (the denominator of every share). */
  total: number;
  /** Items whose category was null; excluded from the shares and reported separately. */
  unlabelled: number;
}

/**
 * Share table over fixed categories, in the order given, e.g. `shareTable(grades, ["PASS", "PARTIAL", "FAIL"])`.
 * A value outside `categories` is an error (a typo would otherwise vanish from the table).
 */
export function shareTable<K extends string>(
  labels: readonly (K | null)[],
  categories: readonly K[],
  level = 0.95,
): ShareTable {
  const counts = new Map<string, number>(categories.map((c) => [c, 0]));
  let unlabelled = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === null) {
      unlabelled++;
      continue;
    }
    const c = counts.get(l);
    if (c === undefined)
      throw new StatsError(`shareTable: item ${i} has category "${l}", not one of ${categories.join(", ")}`);
    counts.set(l, c + 1);
  }
  const total = labels.length - unlabelled;
  const rows = categories.map((key): ShareRow => {
    const count = counts.get(key) ?? 0;
    if (total === 0) return { key, count, mean: NaN, lo: NaN, hi: NaN, n: 0, method: "none (no items)" };
    return { key, count, ...wilsonCi(count, total, level) };
  });
  return { rows, total, unlabelled };
}

/** Result of a chi-square test of independence. */
export interface ChiSquareResult {
  /** Pearson's statistic, sum over cells of (observed - expected)^2 / expected. */
  stat: number;
  /** Degrees of freedom, (rows - 1)(columns - 1) after dropping all-zero rows and columns. */
  df: number;
  /** Upper-tail p-value from the chi-square law with `df` degrees of freedom. */
  p: number;
}

/**
 * Pearson chi-square test of independence on a contingency table of counts (rows x columns), no continuity
 * correction. All-zero rows and columns are dropped first (they have expected count 0 and carry no information); if
 * fewer than 2 rows or 2 columns remain there is nothing to test and the result is { stat: 0, df: 0, p: 1 }.
 */
export function chiSquareIndependence(table: number[][]): ChiSquareResult {
  if (table.length === 0) throw new StatsError("chiSquareIndependence: empty table");
  const cols = table[0].length;
  for (let i = 0; i < table.length; i++) {
    if (table[i].length !== cols)
      throw new StatsError(`chiSquareIndependence: row ${i} has ${table[i].length} columns, row 0 has ${cols}`);
    for (let j = 0; j < cols; j++) {
      const v = table[i][j];
      if (!Number.isFinite(v) || v < 0)
        throw new StatsError(`chiSquareIndependence: cell [${i}][${j}] is ${v}; counts must be finite and >= 0`);
    }
  }
  const rowSum = table.map((r) => r.reduce((s, v) => s + v, 0));
  const colSum = Array.from({ length: cols }, (_, j) => table.reduce((s, r) => s + r[j], 0));
  const rows = rowSum.map((s, i) => (s > 0 ? i : -1)).filter((i) => i >= 0);
  const keptCols = colSum.map((s, j) => (s > 0 ? j : -1)).filter((j) => j >= 0);
  if (rows.length < 2 || keptCols.length < 2) return { stat: 0, df: 0, p: 1 };
  const total = rowSum.reduce((s, v) => s + v, 0);
  let stat = 0;
  for (const i of rows)
    for (const j of keptCols) {
      const expected = (rowSum[i] * colSum[j]) / total;
      const d = table[i][j] - expected;
      stat += (d * d) / expected;
    }
  const df = (rows.length - 1) * (keptCols.length - 1);
  return { stat, df, p: chiSquareSf(stat, df) };
}
