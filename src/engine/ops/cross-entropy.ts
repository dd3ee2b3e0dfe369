/**
 * Fused softmax + cross-entropy over next-token logits with a loss mask (completion-only training):
 * returns the mean loss over counted positions and writes its gradient wrt the logits.
 */

import { fastExp } from "./fast-exp.js";

/**
 * Position n counts when targets[n] >= 0 and (mask === null or mask[n] > 0); mask values act as weights.
 * Returns sum_n w_n * -log p(targets[n]) / sum_n w_n (0 when nothing counts), and when dlogits is non-null
 * *overwrites* it with the gradient of that mean (rows that do not count are zeroed).
 */
export function crossEntropyForward(
  dlogits: Float32Array | null, // (N,V)
  logits: Float32Array, // (N,V)
  targets: Int32Array, // (N)
  mask: ArrayLike<number> | null, // (N)
  N: number,
  V: number,
): number {
  let wsum = 0;
  for (let n = 0; n < N; n++)
    if (targets[n] >= 0 && (mask === null || mask[n] > 0)) wsum += mask === null ? 1 : mask[n];
  const V4 = V - (V % 4);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const tgt = targets[n];
    const w = tgt >= 0 && (mask === null || mask[n] > 0) ? (mask === null ? 1 : mask[n]) : 0;
    if (w === 0) {
      if (dlogits !== null) dlogits.fill(0, o, o + V);
      continue;
    }
    if (tgt >= V) throw new RangeError(`crossEntropy: target ${tgt} at position ${n} is outside [0, ${V})`);
    // max and sum of exps as four interleaved partial results: no serial chain waiting on each compare or add
    let m0 = -Infinity,
      m1 = -Infinity,
      m2 = -Infinity,
      m3 = -Infinity;
    let j = 0;
    for (; j < V4; j += 4) {
      m0 = Math.max(m0, logits[o + j]);
      m1 = Math.max(m1, logits[o + j + 1]);
      m2 = Math.max(m2, logits[o + j + 2]);
      m3 = Math.max(m3, logits[o + j + 3]);
    }
    for (; j < V; j++) m0 = Math.max(m0, logits[o + j]);
    const max = Math.max(m0, m1, m2, m3);
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    j = 0;
    if (dlogits === null) {
      for (; j < V4; j += 4) {
        s0 += fastExp(logits[o + j] - max);
        s1 += fastExp(logits[o + j + 1] - max);
        s2 += fastExp(logits[o + j + 2] - max);
        s3 += fastExp(logits[o + j + 3] - max);
      }
      for (; j < V; j++) s0 += fastExp(logits[o + j] - max);
    } else {
      // exps kept in dlogits so the gradient needs no second exp
      for (; j < V4; j += 4) {
        const e0 = fastExp(logits[o + j] - max),
          e1 = fastExp(logits[o + j + 1] - max),
          e2 = fastExp(logits[o + j + 2] - max),
          e3 = fastExp(logits[o + j + 3] - max);
        dlogits[o + j] = e0;
        dlogits[o + j + 1] = e1;
        dlogits[o + j + 2] = e2;
        dlogits[o + j + 3] = e3;
        s0 += e0;
        s1 += e1;
        s2 += e2;
        s3 += e3;
      }
      for (; j < V; j++) {
        const e = fastExp(logits[o + j] - max);
        dlogits[o + j] = e;
        s0 += e;
      }
    }
    const sum = s0 + s1 + (s2 + s3);
    loss += w * (max + Math.log(sum) - logits[o + tgt]);
    if (dlogits !== null) {
      const c = w / wsum;
      const k = c / sum;
      for (j = 0; j < V4; j += 4) {
        dlogits[o + j] *= k;
        dlogits[o + j + 1] *= k;
        dlogits[o + j + 2] *= k;
        dlogits[o + j + 3] *= k;
      }
      for (; j < V; j++) dlogits[o + j] *= k;
      dlogits[o + tgt] -= c;
    }
  }
  return wsum > 0 ? loss / wsum : 0;
}
