/** Completion-only cross-entropy over a right-padded batch: the loss, its gradient wrt logits, and eval loss. */
import type { CausalLM } from "../engine/model-api.js";
import { accumulateRowGrad, logSoftmaxRow } from "./logit-math.js";
import type { SftExample } from "./sft-batches.js";
import { packRightPadded } from "./trainer-common.js";

/** Positions scored in an example: targets at indices [first, len) of prompt+completion. */
export function scoredRange(ex: SftExample, completionOnly: boolean): { first: number; len: number } {
  return { first: completionOnly ? ex.prompt.length : 1, len: ex.prompt.length + ex.completion.length };
}

/** Number of scored target tokens (the loss normaliser). */
export function scoredTokens(examples: readonly SftExample[], completionOnly: boolean): number {
  let n = 0;
  for (const ex of examples) {
    const r = scoredRange(ex, completionOnly);
    n += r.len - r.first;
  }
  return n;
}

/**
 * Sum of -log p(target) over the scored tokens of a batch whose logits are [B, T, V]; when `dLogits` is given, adds
 * `scale * d(sum)/dLogits` into it (scale = 1 / tokens of the whole optimizer step, so accumulation averages).
 */
export function crossEntropySum(
  logits: Float32Array, // (B,T,V)
  examples: readonly SftExample[],
  T: number,
  V: number,
  completionOnly: boolean,
  dLogits: Float32Array | null, // (B,T,V) accumulated into
  scale: number,
): number {
  const logp = new Float64Array(V);
  let sum = 0;
  examples.forEach((ex, b) => {
    const seq = ex.prompt.concat(ex.completion);
    const { first, len } = scoredRange(ex, completionOnly);
    for (let t = first - 1; t < len - 1; t++) {
      const off = (b * T + t) * V;
      const target = seq[t + 1];
      logSoftmaxRow(logp, logits, off, V, 1);
      sum -= logp[target];
      if (dLogits)
        accumulateRowGrad(dLogits, off, logp, V, 1, { token: target, cLogp: -scale, cEnt: 0, entropy: 0, cKl: 0 });
    }
  });
  return sum;
}

/** Mean per-token cross-entropy of `model` on `examples` (no dropout, no gradients), batched by `batchSize`. */
export function evalLoss(
  model: CausalLM,
  examples: readonly SftExample[],
  batchSize: number,
  padId: number,
  completionOnly = true,
): number {
  const V = model.config.vocabSize;
  let sum = 0,
    n = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const { tokens, B, T } = packRightPadded(
      chunk.map((e) => e.prompt.concat(e.completion)),
      padId,
    );
    const { logits } = model.forward(tokens, B, T, { train: false });
    sum += crossEntropySum(logits, chunk, T, V, completionOnly, null, 0);
    n += scoredTokens(chunk, completionOnly);
  }
  return n > 0 ? sum / n : NaN;
}
