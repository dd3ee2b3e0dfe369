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
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    if (dlogits === null) for (let j = 0; j < V; j++) sum += fastExp(logits[o + j] - max);
    else
      for (let j = 0; j < V; j++) {
        const e = fastExp(logits[o + j] - max); // kept in dlogits so the gradient needs no second exp
        dlogits[o + j] = e;
        sum += e;
      }
    loss += w * (max + Math.log(sum) - logits[o + tgt]);
    if (dlogits !== null) {
      const c = w / wsum;
      const k = c / sum;
      for (let j = 0; j < V; j++) dlogits[o + j] *= k;
      dlogits[o + tgt] -= c;
    }
  }
  return wsum > 0 ? loss / wsum : 0;
}
