/** Mean with a 95% Student-t confidence interval over seeds, for the toy task's summary. */
import type { Estimate } from "../../experiment/task.js";

// Two-sided 97.5% quantiles of Student's t for 1..10 degrees of freedom; beyond that 1.96 is close enough for a toy.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/**
 * Estimate of the mean of `values`; with one value the interval collapses to the point. `bounds` clips the interval
 * to the metric's range (a share cannot leave [0, 1], however wide the t interval of two seeds is).
 */
export function estimateMean(values: number[], bounds: [number, number] = [-Infinity, Infinity]): Estimate {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean, n, values };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (T975[n - 2] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, lo: Math.max(bounds[0], mean - half), hi: Math.min(bounds[1], mean + half), n, values };
}
