/**
 * The GRPO loss of one mini-batch and its gradient with respect to the logits (TRL 1.13 `_compute_loss`, token-level
 * importance sampling). Per response token, with r = exp(logp - logp_old) and A the completion's advantage:
 *   l_t = -min(r A, clip(r, 1 - epsLow, 1 + epsHigh) A) + beta (exp(ref - logp) - (ref - logp) - 1)
 *   loss = sum_t w_t l_t - entCoef * entWeight * sum_t H_t
 * where the token weights w_t encode the loss type (`grpoTokenWeights`) and the entropy bonus is the mini-batch's mean
 * token entropy whatever the loss type (TRL's entropy_coef). Gradients go through logit-math's accumulateRowGrad.
 */
import type { GrpoLossType } from "./grpo-config.js";
import { accumulateRowGrad, entropyRow, logSoftmaxRow } from "./logit-math.js";
import type { Rollout } from "./rollout.js";

export interface GrpoLossCoefs {
  /** Ratio clip bounds: [1 - epsLow, 1 + epsHigh]. */
  epsLow: number;
  epsHigh: number;
  /** Coefficient of the k3 KL estimate (needs every rollout's refLogp when > 0). */
  beta: number;
  entCoef: number;
  /** 1 / temperature when log-probs are scored on tempered logits, else 1. */
  invTemp: number;
  /** Weight of each token of rollout b in the policy + KL sum (one per rollout, from `grpoTokenWeights`). */
  weights: readonly number[];
  /** Weight of each token's entropy in the bonus: 1 / (mini-batch tokens x mini-batches per optimizer step). */
  entWeight: number;
}

export interface GrpoLossStats {
  /** This mini-batch's share of the optimizer step's objective (weights already include accumulation). */
  loss: number;
  /** The policy term alone, weighted as `loss`. */
  pgLoss: number;
  /** Mean k3 KL estimate over the mini-batch's tokens (0 without a reference). */
  kl: number;
  /** Mean token entropy. */
  entropy: number;
  /** Tokens whose ratio fell below 1 - epsLow with A < 0, and above 1 + epsHigh with A > 0 (TRL's clip_ratio). */
  clipLow: number;
  clipHigh: number;
  tokens: number;
}

export interface TokenWeightContext {
  /** Mini-batches in this optimizer step (the gradient of each is divided by it, TRL's accumulation scaling). */
  nMini: number;
  /** The configured completion cap (dr_grpo's constant). */
  maxNewTokens: number;
  /**
   * dapo's normaliser: the generation batch's response tokens x (miniBatchSize x gradAccum) / its completions, i.e.
   * the mean token count of one full accumulation window (TRL: num_items_in_batch x accumulation / steps_per_generation).
   */
  dapoTokens: number;
}

/** The per-token weight of each rollout of a mini-batch for `lossType` (see the config's `lossType`). */
export function grpoTokenWeights(lossType: GrpoLossType, lengths: readonly number[], o: TokenWeightContext): number[] {
  const B = lengths.length;
  const N = lengths.reduce((a, b) => a + b, 0);
  switch (lossType) {
    case "grpo":
      return lengths.map((L) => 1 / (B * Math.max(L, 1) * o.nMini));
    case "bnpo":
      return lengths.map(() => 1 / (Math.max(N, 1) * o.nMini));
    case "dr_grpo":
      return lengths.map(() => 1 / (B * o.maxNewTokens * o.nMini));
    case "dapo":
      return lengths.map(() => 1 / Math.max(o.dapoTokens, 1));
  }
}

/**
 * Loss of `batch` from the training forward's logits [B, T, V] (row b = batch[b], right-padded to T); with `dLogits`
 * (same shape, zeroed by the caller) its gradient is added. With `compact` the logits hold only the batch's
 * `responseRows`, [P, V], in (b, j) order. Each rollout's `adv` holds its advantage at every token.
 */
export function grpoLoss(
  logits: Float32Array, // (B,T,V) or (P,V)
  T: number,
  V: number,
  batch: readonly Rollout[],
  c: GrpoLossCoefs,
  dLogits: Float32Array | null, // same shape as logits
  compact = false,
): GrpoLossStats {
  let N = 0;
  for (const r of batch) N += r.response.length;
  const logp = new Float64Array(V);
  const s = { pg: 0, klW: 0, kl: 0, ent: 0, low: 0, high: 0 };
  let k = 0;
  batch.forEach((r, b) => {
    const w = c.weights[b];
    if (c.beta !== 0 && r.refLogp === null)
      throw new Error("grpoLoss: beta > 0 needs the reference log-probs of every rollout");
    for (let j = 0; j < r.response.length; j++, k++) {
      const off = (compact ? k : b * T + r.prompt.length + j - 1) * V;
      const a = r.response[j];
      logSoftmaxRow(logp, logits, off, V, c.invTemp);
      const lp = logp[a];
      const H = entropyRow(logp, V);
      const A = r.adv[j];
      const ratio = Math.exp(lp - r.oldLogp[j]);
      const l1 = ratio * A;
      const l2 = Math.min(Math.max(ratio, 1 - c.epsLow), 1 + c.epsHigh) * A;
      // -min(l1, l2): where the clipped term is the smaller it is constant in logp, so only l1 carries a gradient
      const dPg = l1 <= l2 ? -A * ratio : 0;
      if (ratio < 1 - c.epsLow && A < 0) s.low++;
      if (ratio > 1 + c.epsHigh && A > 0) s.high++;
      let kl = 0,
        dKl = 0;
      if (c.beta !== 0) {
        const d = r.refLogp![j] - lp;
        kl = Math.exp(d) - d - 1;
        dKl = 1 - Math.exp(d); // d/dlogp of exp(ref - logp) - (ref - logp) - 1
      }
      s.pg += w * -Math.min(l1, l2);
      s.kl += kl;
      s.ent += H;
      s.klW += w * c.beta * kl;
      if (dLogits)
        accumulateRowGrad(dLogits, off, logp, V, c.invTemp, {
          token: a,
          cLogp: w * (dPg + c.beta * dKl),
          cEnt: -c.entCoef * c.entWeight,
          entropy: H,
          cKl: 0,
        });
    }
  });
  return {
    loss: s.pg + s.klW - c.entCoef * c.entWeight * s.ent,
    pgLoss: s.pg,
    kl: N > 0 ? s.kl / N : 0,
    entropy: N > 0 ? s.ent / N : 0,
    clipLow: N > 0 ? s.low / N : 0,
    clipHigh: N > 0 ? s.high / N : 0,
    tokens: N,
  };
}
