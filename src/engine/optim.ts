/** AdamW with decoupled weight decay, global gradient-norm clipping, and the cosine-with-warm-up learning-rate schedule. */

import type { Param } from "./model-api.js";
import { nativeOps } from "./ops/native-ops.js";

/** Raised when an optimizer state does not fit the parameters it is loaded into. */
export class OptimStateError extends Error {
  override name = "OptimStateError";
}

export interface AdamWConfig {
  /** Learning rate used when `step()` is called without one. */
  lr: number;
  /** First-moment decay. Default 0.9. */
  beta1?: number;
  /** Second-moment decay. Default 0.999. */
  beta2?: number;
  /** Added to the bias-corrected RMS. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (p -= lr * wd * p), applied before the Adam update as in PyTorch. Default 0. */
  weightDecay?: number;
  /** Which parameters decay (default: all trainable ones). E.g. `(p) => p.shape.length >= 2` skips norm gains. */
  decays?: (p: Param) => boolean;
}

/** The optimizer's resumable state: step count and one m / v array per trainable parameter, in order. */
export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

/**
 * AdamW over the parameters that are `trainable` at construction (LoRA: the adapters only).
 * Moments live in two flat buffers with one `subarray` view per parameter, so a step is a flat loop per tensor.
 * Same update as torch.optim.AdamW: p -= lr*wd*p; m,v updated; p -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps).
 */
export class AdamW {
  readonly params: readonly Param[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly decayMask: boolean[];
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  lr: number;
  /** Number of updates taken so far (the bias-correction exponent of the next step is stepCount + 1). */
  stepCount = 0;

  constructor(params: readonly Param[], cfg: AdamWConfig) {
    this.params = params.filter((p) => p.trainable);
    this.lr = cfg.lr;
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0;
    const decays = cfg.decays ?? (() => true);
    this.decayMask = this.params.map(decays);
    let total = 0;
    for (const p of this.params) total += p.data.length;
    const mBuf = new Float32Array(total); // all first moments, one buffer
    const vBuf = new Float32Array(total); // all second moments, one buffer
    this.m = [];
    this.v = [];
    let off = 0;
    for (const p of this.params) {
      this.m.push(mBuf.subarray(off, off + p.data.length));
      this.v.push(vBuf.subarray(off, off + p.data.length));
      off += p.data.length;
    }
  }

  /** One update from the accumulated `grad`s (does not zero them). `lr` overrides the configured rate for this step. */
  step(lr: number = this.lr): void {
    this.stepCount++;
    const b1 = this.beta1,
      b2 = this.beta2,
      eps = this.eps;
    const bc1 = 1 - Math.pow(b1, this.stepCount);
    const invBc2Sqrt = 1 / Math.sqrt(1 - Math.pow(b2, this.stepCount));
    const stepSize = lr / bc1;
    // hoisted constants and a multiply instead of a second divide: the loop is memory-bound, ~25% faster this way
    const c1 = 1 - b1,
      c2 = 1 - b2;
    const native = nativeOps(); // the same float64 arithmetic in C (native-ops.c), where the library is here
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k];
      const w = p.data,
        g = p.grad,
        m = this.m[k],
        v = this.v[k];
      const shrink = this.decayMask[k] ? 1 - lr * this.weightDecay : 1;
      if (native !== null) {
        native.adamw(w, g, m, v, { b1, b2, c1, c2, shrink, stepSize, invBc2Sqrt, eps });
        continue;
      }
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + c1 * gi;
        const vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * shrink - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps);
      }
    }
  }

  /** A copy of the state (safe to keep while training continues). */
  stateDict(): AdamWState {
    return { step: this.stepCount, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  /** Restore a state from `stateDict()`; the parameter list must match in count and sizes. */
  loadStateDict(s: AdamWState): void {
    if (s.m.length !== this.params.length || s.v.length !== this.params.length)
      throw new OptimStateError(
        `AdamW state has ${s.m.length} moment tensors but the optimizer has ${this.params.length} trainable parameters`,
      );
    for (let k = 0; k < this.params.length; k++) {
      const n = this.params[k].data.length;
      if (s.m[k].length !== n || s.v[k].length !== n)
        throw new OptimStateError(
          `AdamW state tensor ${k} (${this.params[k].name}) has ${s.m[k].length}/${s.v[k].length} values, expected ${n}`,
        );
      this.m[k].set(s.m[k]);
      this.v[k].set(s.v[k]);
    }
    this.stepCount = s.step;
  }
}

/**
 * Scale the gradients of the trainable `params` so their global L2 norm is at most `maxNorm` (as
 * torch.nn.utils.clip_grad_norm_: factor maxNorm / (norm + 1e-6)). Returns the norm before clipping.
 * A non-finite norm is returned unchanged and the gradients are left alone, so the caller can skip the step.
 */
export function clipGradNorm(params: readonly Param[], maxNorm: number): number {
  let sq = 0; // float64 accumulation: millions of float32 squares
  for (const p of params) {
    if (!p.trainable) continue;
    const g = p.grad;
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) return norm;
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1)
    for (const p of params) {
      if (!p.trainable) continue;
      const g = p.grad;
      for (let i = 0; i < g.length; i++) g[i] *= scale;
    }
  return norm;
}

export interface CosineScheduleOptions {
  baseLr: number;
  /** Linear ramp from 0 over these steps (Hugging Face convention: lr is 0 at step 0). */
  warmupSteps: number;
  /** Step at which the cosine reaches minLr; later steps stay at minLr. */
  totalSteps: number;
  /** Floor of the cosine. Default 0. */
  minLr?: number;
}

/**
 * Learning rate at `step` (0-based): baseLr * step / warmupSteps during warm-up, then
 * minLr + (baseLr - minLr) * (1 + cos(pi * progress)) / 2 with progress = (step - warmup) / (total - warmup).
 * Same curve as transformers.get_cosine_schedule_with_warmup (when minLr is 0).
 */
export function cosineWithWarmup(step: number, o: CosineScheduleOptions): number {
  const minLr = o.minLr ?? 0;
  if (step < o.warmupSteps) return (o.baseLr * step) / o.warmupSteps;
  const span = o.totalSteps - o.warmupSteps;
  const progress = span > 0 ? Math.min(1, (step - o.warmupSteps) / span) : 1;
  return minLr + (o.baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
