/**
 * Linear layer y = x W^T (+ b) with weights [out, in] as in PyTorch, and the LoRA adapter y += s * (drop(x) A^T) B^T
 * on top of it (PEFT semantics: dropout on the adapter input only, scale s = alpha / rank). All products go through gemm.
 */

import { getGemm } from "../gemm/index.js";
import type { Rng } from "../../data/rng.js";

/**
 * out = inp @ w^T (+ bias): overwrites out, or with `accumulate` adds into it (a residual connection folded into the
 * product, one pass over memory fewer).
 */
export function linearForward(
  out: Float32Array, // (N,OC)
  inp: Float32Array, // (N,IC)
  w: Float32Array, // (OC,IC)
  bias: Float32Array | null, // (OC)
  N: number,
  IC: number,
  OC: number,
  accumulate = false,
): void {
  getGemm().sgemm(false, true, N, OC, IC, 1, inp, IC, w, IC, accumulate ? 1 : 0, out, OC);
  if (bias !== null) addBias(out, bias, N, OC);
}

/** out[n, :] += bias for each of N rows (the bias of a linear layer, after its product). */
export function addBias(out: Float32Array, bias: Float32Array, N: number, OC: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * OC;
    for (let j = 0; j < OC; j++) out[o + j] += bias[j];
  }
}

/**
 * Adds dinp += dout @ w, dw += dout^T @ inp, dbias += sum_n dout. Any of dinp/dw/dbias may be null (not needed).
 * With `overwriteDinp` dinp = dout @ w instead (its first contribution: no zero-fill pass beforehand).
 */
export function linearBackward(
  dinp: Float32Array | null, // (N,IC)
  dw: Float32Array | null, // (OC,IC)
  dbias: Float32Array | null, // (OC)
  dout: Float32Array, // (N,OC)
  inp: Float32Array, // (N,IC)
  w: Float32Array, // (OC,IC)
  N: number,
  IC: number,
  OC: number,
  overwriteDinp = false,
): void {
  const g = getGemm();
  if (dinp !== null) g.sgemm(false, false, N, IC, OC, 1, dout, OC, w, IC, overwriteDinp ? 0 : 1, dinp, IC);
  if (dw !== null) g.sgemm(true, false, OC, IC, N, 1, dout, OC, inp, IC, 1, dw, IC);
  if (dbias !== null)
    for (let n = 0; n < N; n++) {
      const o = n * OC;
      for (let j = 0; j < OC; j++) dbias[j] += dout[o + j];
    }
}

/**
 * Inverted dropout: keep[i] is 0 (dropped) or 1/(1-p); out = inp * keep. The mask is saved for the backward.
 * Exact Bernoulli(p) masks, drawn cheaply on LoRA's hot path: for p < 0.25 the gaps between dropped elements are
 * drawn as geometric variables (about n*p draws instead of n); otherwise each 32-bit draw decides two elements by
 * 16-bit halves (p resolved to 1/65536). Deterministic for a given rng state.
 */
export function dropoutForward(
  out: Float32Array, // (n)
  keep: Float32Array, // (n)
  inp: Float32Array, // (n)
  n: number,
  p: number,
  rng: Rng,
): void {
  const s = 1 / (1 - p);
  if (p < 0.25) {
    for (let i = 0; i < n; i++) {
      keep[i] = s;
      out[i] = inp[i] * s;
    }
    const lq = Math.log1p(-p);
    // failures before the next drop ~ Geometric(p): floor(log(u) / log(1-p)), u uniform in (0, 1]
    for (let i = -1; ;) {
      i += 1 + Math.floor(Math.log(1 - rng.float()) / lq);
      if (i >= n) break;
      keep[i] = 0;
      out[i] = 0;
    }
    return;
  }
  const thr = Math.round(p * 65536); // element dropped when its 16-bit draw < thr
  for (let i = 0; i < n; i += 2) {
    const u = rng.nextU32();
    const k0 = (u & 0xffff) < thr ? 0 : s;
    keep[i] = k0;
    out[i] = inp[i] * k0;
    if (i + 1 < n) {
      const k1 = u >>> 16 < thr ? 0 : s;
      keep[i + 1] = k1;
      out[i + 1] = inp[i + 1] * k1;
    }
  }
}

/** dinp += dout * keep. */
export function dropoutBackward(dinp: Float32Array, dout: Float32Array, keep: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dinp[i] += dout[i] * keep[i];
}

/**
 * LoRA update added onto a base linear's output: a = h @ A^T, out += scale * a @ B^T.
 * `h` is the (possibly dropped-out) adapter input; `a` is saved for the backward.
 */
export function loraForward(
  out: Float32Array, // (N,OC) base output, added into
  a: Float32Array, // (N,r) saved
  h: Float32Array, // (N,IC)
  A: Float32Array, // (r,IC) lora_A.weight
  B: Float32Array, // (OC,r) lora_B.weight
  N: number,
  IC: number,
  OC: number,
  r: number,
  scale: number,
): void {
  const g = getGemm();
  g.sgemm(false, true, N, r, IC, 1, h, IC, A, IC, 0, a, r);
  g.sgemm(false, true, N, OC, r, scale, a, r, B, r, 1, out, OC);
}

/**
 * Backward of loraForward: da = scale * dout @ B (scratch), dB += scale * dout^T @ a, dA += da^T @ h, dh += da @ A.
 * dA/dB/dh may be null when not needed.
 */
export function loraBackward(
  dh: Float32Array | null, // (N,IC)
  dA: Float32Array | null, // (r,IC)
  dB: Float32Array | null, // (OC,r)
  da: Float32Array, // (N,r) scratch, overwritten
  dout: Float32Array, // (N,OC)
  h: Float32Array, // (N,IC)
  a: Float32Array, // (N,r)
  A: Float32Array, // (r,IC)
  B: Float32Array, // (OC,r)
  N: number,
  IC: number,
  OC: number,
  r: number,
  scale: number,
): void {
  const g = getGemm();
  if (dB !== null) g.sgemm(true, false, OC, r, N, scale, dout, OC, a, r, 1, dB, r);
  if (dA === null && dh === null) return;
  g.sgemm(false, false, N, r, OC, scale, dout, OC, B, r, 0, da, r);
  if (dA !== null) g.sgemm(true, false, r, IC, N, 1, da, r, h, IC, 1, dA, IC);
  if (dh !== null) g.sgemm(false, false, N, IC, r, 1, da, r, A, IC, 1, dh, IC);
}
