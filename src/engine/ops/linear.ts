/**
 * Linear layer y = x W^T (+ b) with weights [out, in] as in PyTorch, and the LoRA adapter y += s * (drop(x) A^T) B^T
 * on top of it (PEFT semantics: dropout on the adapter input only, scale s = alpha / rank). All products go through gemm.
 */

import { getGemm } from "../gemm.js";
import type { Rng } from "../../data/rng.js";

/** out = inp @ w^T (+ bias). Overwrites out. */
export function linearForward(
  out: Float32Array, // (N,OC)
  inp: Float32Array, // (N,IC)
  w: Float32Array, // (OC,IC)
  bias: Float32Array | null, // (OC)
  N: number,
  IC: number,
  OC: number,
): void {
  getGemm().sgemm(false, true, N, OC, IC, 1, inp, IC, w, IC, 0, out, OC);
  if (bias !== null)
    for (let n = 0; n < N; n++) {
      const o = n * OC;
      for (let j = 0; j < OC; j++) out[o + j] += bias[j];
    }
}

/** Adds dinp += dout @ w, dw += dout^T @ inp, dbias += sum_n dout. Any of dinp/dw/dbias may be null (not needed). */
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
): void {
  const g = getGemm();
  if (dinp !== null) g.sgemm(false, false, N, IC, OC, 1, dout, OC, w, IC, 1, dinp, IC);
  if (dw !== null) g.sgemm(true, false, OC, IC, N, 1, dout, OC, inp, IC, 1, dw, IC);
  if (dbias !== null)
    for (let n = 0; n < N; n++) {
      const o = n * OC;
      for (let j = 0; j < OC; j++) dbias[j] += dout[o + j];
    }
}

/**
 * Inverted dropout: keep[i] is 0 (dropped) or 1/(1-p); out = inp * keep. The mask is saved for the backward.
 * Draws exactly n numbers from rng, so a seed reproduces the mask.
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
  for (let i = 0; i < n; i++) {
    const k = rng.float() < p ? 0 : s;
    keep[i] = k;
    out[i] = inp[i] * k;
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
