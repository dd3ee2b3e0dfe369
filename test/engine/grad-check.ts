/** Central finite-difference gradient checking for the engine tests (float32 tensors, float64 loss). */

import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";

/** A float32 array of normal draws times `scale`. */
export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** sum_i a[i] * w[i] in float64: the projection loss whose gradient wrt a is w. */
export function dot64(a: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += a[i] * w[i];
  return s;
}

export interface GradReport {
  name: string;
  /** max_i |analytic - numeric| */
  maxAbsErr: number;
  /** max_i |numeric| (the tensor's gradient scale) */
  maxGrad: number;
}

/**
 * For each tensor x and its analytic gradient g: perturb every element by +-eps, call loss() and compare
 * (L+ - L-) / (2 eps) with g. The tensors are restored exactly afterwards.
 */
export function numericGrads(
  tensors: { name: string; x: Float32Array; g: Float32Array }[],
  loss: () => number,
  eps: number,
): GradReport[] {
  const out: GradReport[] = [];
  for (const { name, x, g } of tensors) {
    let maxAbsErr = 0;
    let maxGrad = 0;
    for (let i = 0; i < x.length; i++) {
      const orig = x[i];
      x[i] = orig + eps;
      const lp = loss();
      x[i] = orig - eps;
      const lm = loss();
      x[i] = orig;
      const num = (lp - lm) / (2 * eps);
      maxAbsErr = Math.max(maxAbsErr, Math.abs(num - g[i]));
      maxGrad = Math.max(maxGrad, Math.abs(num));
    }
    out.push({ name, maxAbsErr, maxGrad });
  }
  return out;
}

/**
 * Asserts every tensor's max error is within rtol * maxGrad + atol (relative to the tensor's gradient scale, plus
 * an absolute floor for float32 noise in the loss) and that the gradient is not identically zero.
 */
export function assertGrads(reports: GradReport[], rtol: number, atol: number, label: string): void {
  for (const r of reports) {
    assert.ok(Number.isFinite(r.maxAbsErr), `${label} ${r.name}: non-finite gradient`);
    assert.ok(r.maxGrad > 0, `${label} ${r.name}: gradient is identically zero (nothing checked)`);
    assert.ok(
      r.maxAbsErr <= rtol * r.maxGrad + atol,
      `${label} ${r.name}: max |analytic - numeric| = ${r.maxAbsErr.toExponential(2)} ` +
        `(max grad ${r.maxGrad.toExponential(2)}, rtol ${rtol}, atol ${atol})`,
    );
  }
}
