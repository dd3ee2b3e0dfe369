/** Losses for `LlamaModel.trainChunked`: cross-entropy over chosen positions, computed chunk by chunk. */

import type { ChunkLoss } from "./model.js";
import { crossEntropyForward } from "./ops/cross-entropy.js";

/**
 * Weighted mean cross-entropy of `targets[i]` at the i-th asked row (weights default 1; a target < 0 or weight 0
 * skips the row), split over chunks: each chunk returns its share sum_i w_i nll_i / sum_all w, so the chunks add up
 * to the same mean `crossEntropyForward` gives over all rows at once.
 */
export function crossEntropyChunks(targets: Int32Array, weights: Float32Array | null = null): ChunkLoss {
  let W = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) W += weights === null ? 1 : weights[i];
  return (logits, dLogits, first, n) => {
    const V = logits.length / n;
    const tg = targets.subarray(first, first + n);
    const w = weights === null ? null : weights.subarray(first, first + n);
    let wc = 0;
    for (let i = 0; i < n; i++) if (tg[i] >= 0 && (w === null || w[i] > 0)) wc += w === null ? 1 : w[i];
    if (wc === 0 || W === 0) {
      dLogits.fill(0);
      return 0;
    }
    const mean = crossEntropyForward(dLogits, logits, tg, w, n, V);
    const share = wc / W;
    for (let j = 0; j < n * V; j++) dLogits[j] *= share;
    return mean * share;
  };
}

/** Flat positions b*T+t with mask[b*T+t] > 0, in order: the rows whose logits a masked loss needs. */
export function maskedRows(mask: ArrayLike<number>, N: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < N; i++) if (mask[i] > 0) out.push(i);
  return Int32Array.from(out);
}
