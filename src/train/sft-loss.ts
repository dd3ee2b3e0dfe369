/** Completion-only cross-entropy over a right-padded batch: the loss, its gradient wrt logits, and eval loss. */
import type { CausalLM } from "../engine/model-api.js";
import { LlamaModel, type ChunkLoss } from "../engine/model.js";
import { crossEntropyForward } from "../engine/ops/cross-entropy.js";
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

/**
 * Flat positions (b*T + t) whose next token is scored, with those targets, in batch order: the only rows whose logits
 * the loss needs (a [B, T, V] logits buffer is gigabytes with a 150k vocabulary).
 */
export function scoredRows(
  examples: readonly SftExample[],
  T: number,
  completionOnly: boolean,
): { rows: Int32Array; targets: Int32Array } {
  const rows: number[] = [];
  const targets: number[] = [];
  examples.forEach((ex, b) => {
    const seq = ex.prompt.concat(ex.completion);
    const { first, len } = scoredRange(ex, completionOnly);
    for (let t = first - 1; t < len - 1; t++) {
      rows.push(b * T + t);
      targets.push(seq[t + 1]);
    }
  });
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets) };
}

/**
 * A chunked loss for `LlamaModel.trainChunked`: returns the chunk's sum of -log p(target) and writes `scale` times its
 * gradient (as crossEntropySum does for the full logits).
 */
export function crossEntropySumChunks(targets: Int32Array, scale: number): ChunkLoss {
  return (logits, dLogits, first, n) => {
    const V = logits.length / n;
    const mean = crossEntropyForward(dLogits, logits, targets.subarray(first, first + n), null, n, V);
    for (let j = 0; j < n * V; j++) dLogits[j] *= n * scale;
    return mean * n;
  };
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
    if (model instanceof LlamaModel) {
      // logits at the scored rows only, laid out as one row per scored token
      const { rows, targets } = scoredRows(chunk, T, completionOnly);
      const { logits } = model.forward(tokens, B, T, { train: false, logitRows: rows });
      const logp = new Float64Array(V);
      for (let i = 0; i < rows.length; i++) {
        logSoftmaxRow(logp, logits, i * V, V, 1);
        sum -= logp[targets[i]];
      }
    } else {
      const { logits } = model.forward(tokens, B, T, { train: false });
      sum += crossEntropySum(logits, chunk, T, V, completionOnly, null, 0);
    }
    n += scoredTokens(chunk, completionOnly);
  }
  return n > 0 ? sum / n : NaN;
}
