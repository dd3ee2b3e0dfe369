/**
 * Generic gate checks for a base before fine-tuning, each reporting its numbers whether it passes or not: a score
 * floor (the base can do the task, with and without a label) and a direction check (the output moves the right way
 * across ordered labels, and far enough: a base that merely moved in the right direction let MST fail sideways).
 */
import type { GateReport } from "../experiment.js";

/** One check's outcome: the numbers it measured and, when it fails, why. */
export interface GateCheck {
  pass: boolean;
  reason: string | null;
  values: Record<string, number | null>;
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** `value >= min` (NaN fails); `name` titles the number in the gate table. */
export function floorCheck(name: string, value: number, min: number): GateCheck {
  const pass = value >= min;
  return {
    pass,
    reason: pass ? null : `${name} ${Number.isFinite(value) ? value.toFixed(3) : "n/a"} < ${min}`,
    values: { [name]: num(value) },
  };
}

/** Least-squares slope of score on x. */
export function slope(points: ReadonlyArray<{ x: number; score: number }>): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.score, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.score - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/**
 * The score must move in the `expect`ed direction across labels ordered by x: the fitted line's change from the
 * lowest to the highest x (slope x range) must be at least `minSpread` in that direction. Reports the spread and the
 * scores at the two ends.
 */
export function directionCheck(
  points: ReadonlyArray<{ x: number; score: number }>,
  expect: "increasing" | "decreasing",
  minSpread: number,
  name = "spread across labels",
): GateCheck {
  const pts = points.filter((p) => Number.isFinite(p.score));
  const sorted = [...pts].sort((a, b) => a.x - b.x);
  if (sorted.length < 2)
    return { pass: false, reason: `${name}: fewer than 2 scored labels`, values: { [name]: null } };
  const range = sorted[sorted.length - 1].x - sorted[0].x;
  const spread = slope(sorted) * range * (expect === "increasing" ? 1 : -1);
  const pass = spread >= minSpread;
  return {
    pass,
    reason: pass
      ? null
      : `${name} ${Number.isFinite(spread) ? spread.toFixed(3) : "n/a"} < ${minSpread} (${expect} expected)`,
    values: {
      [name]: num(spread),
      "score at lowest label": num(sorted[0].score),
      "score at highest label": num(sorted[sorted.length - 1].score),
    },
  };
}

/** Combines checks into the kit's GateReport; `rank` orders failed attempts (higher is better). */
export function gateReport(checks: readonly GateCheck[], rank?: number): GateReport {
  return {
    pass: checks.every((c) => c.pass),
    reasons: checks.flatMap((c) => (c.reason ? [c.reason] : [])),
    values: Object.assign({}, ...checks.map((c) => c.values)) as Record<string, number | null>,
    ...(rank !== undefined && Number.isFinite(rank) ? { rank } : {}),
  };
}
