/**
 * PPO rollouts: sampling responses at a temperature with any CausalLM (full forward per new token; the engine's
 * KV-cached sampler can be plugged in instead), then one scoring forward for the old log-probs, values, entropies
 * and the reference log-probs the KL needs.
 */
import type { Rng } from "../data/rng.js";
import type { CausalLM } from "../engine/model-api.js";
import { LlamaModel } from "../engine/model.js";
import { sample } from "../engine/sampler.js";
import { entropyRow, klRow, logSoftmaxRow } from "./logit-math.js";
import { responseRows } from "./ppo-loss.js";
import { packRightPadded } from "./trainer-common.js";

/** Draws responses: one token array per prompt (each at least one token). */
export type ResponseSampler = (
  model: CausalLM,
  prompts: readonly (readonly number[])[],
  o: { maxNewTokens: number; temperature: number; stopIds: readonly number[]; rng: Rng },
) => number[][];

/** Draws an index from a log-probability row by inverse CDF with one uniform. */
export function sampleFromLogp(logp: Float64Array, V: number, rng: Rng): number {
  let u = rng.float();
  for (let k = 0; k < V; k++) {
    u -= Math.exp(logp[k]);
    if (u < 0) return k;
  }
  // rounding left a sliver of mass: take the most likely token rather than a zero-probability tail one
  let best = 0;
  for (let k = 1; k < V; k++) if (logp[k] > logp[best]) best = k;
  return best;
}

/** Portable sampler for any CausalLM: re-runs the forward over the whole batch for each new token. */
export function sampleByForward(padId: number): ResponseSampler {
  return (model, prompts, o) => {
    const V = model.config.vocabSize;
    const logp = new Float64Array(V);
    const inv = 1 / o.temperature;
    const stop = new Set(o.stopIds);
    const out: number[][] = prompts.map(() => []);
    const done = prompts.map(() => false);
    for (let j = 0; j < o.maxNewTokens; j++) {
      const seqs = prompts.map((p, b) => p.concat(out[b]));
      const { tokens, B, T } = packRightPadded(seqs, padId);
      const { logits } = model.forward(tokens, B, T, { train: false });
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        logSoftmaxRow(logp, logits, (b * T + seqs[b].length - 1) * V, V, inv);
        const tok = sampleFromLogp(logp, V, o.rng);
        out[b].push(tok);
        if (stop.has(tok)) done[b] = true;
      }
      if (done.every(Boolean)) break;
    }
    return out;
  };
}

/**
 * The default sampler: the engine's KV-cached batched sampler for a LlamaModel (one cached decode per new token),
 * the portable forward-per-token sampler for any other CausalLM.
 */
export function defaultSampler(padId: number): ResponseSampler {
  const portable = sampleByForward(padId);
  return (model, prompts, o) =>
    model instanceof LlamaModel
      ? sample(
          model,
          prompts.map((p) => [...p]),
          { maxNewTokens: o.maxNewTokens, temperature: o.temperature, stopIds: [...o.stopIds], rng: o.rng },
        ).tokens
      : portable(model, prompts, o);
}

/** One scored rollout; arrays are per response token. */
export interface Rollout {
  prompt: number[];
  response: number[];
  /** Log-prob of each response token under the loss distribution at rollout time (L). */
  oldLogp: Float32Array;
  /** Value estimate at the state emitting each token (L). */
  values: Float32Array;
  /** Entropy of each token's distribution (L), for the metrics. */
  entropy: Float32Array;
  /** Reference log-prob of each sampled token (L), or null without a reference. */
  refLogp: Float32Array | null;
  /** Reference log-prob rows (L, V) for the exact KL in the loss, or null. */
  refRows: Float32Array | null;
  /** Exact per-token KL(pi || ref) at rollout time (L), or null without a reference. */
  kl: Float32Array | null;
  /** Task score and the token rewards / advantages / returns filled in by the trainer. */
  score: number;
  rewards: Float32Array;
  adv: Float32Array;
  ret: Float32Array;
}

/** How to get reference logits: the model's own base (LoRA off), a separate frozen model, or none. */
export type Reference = { kind: "base" } | { kind: "model"; model: CausalLM } | null;

/**
 * Scoring forward over prompt+response sequences (no dropout): fills old log-probs, values and entropies, then the
 * reference's log-probs and the exact per-token KL when `ref` is set (rows kept only when `keepRefRows`, for the
 * KL loss). With `needValues` false (GRPO: no critic) the model needs no value head and `values` stay zero.
 */
export function scoreRollouts(
  model: CausalLM,
  items: readonly { prompt: number[]; response: number[]; score: number }[],
  invTemp: number,
  padId: number,
  ref: Reference,
  keepRefRows: boolean,
  needValues = true,
): Rollout[] {
  const V = model.config.vocabSize;
  const { tokens, B, T } = packRightPadded(
    items.map((it) => it.prompt.concat(it.response)),
    padId,
  );
  // the engine's model computes logits at the response rows only ([P, V] in (b, j) order, not [B, T, V])
  const rows = model instanceof LlamaModel ? responseRows(items, T) : undefined;
  const only = rows === undefined ? {} : { logitRows: rows };
  const { logits, values } = model.forward(tokens, B, T, { train: false, ...only });
  if (!values && needValues) throw new Error("PPO scoring forward returned no values: the model needs a value head");
  let k = 0;
  const logp = new Float64Array(V);
  // policy log-prob rows at response positions, copied: the reference forward may reuse the model's logits buffer
  const polRows: Float64Array[] = [];
  const rollouts: Rollout[] = items.map((it, b) => {
    const L = it.response.length;
    const r: Rollout = {
      prompt: it.prompt,
      response: it.response,
      oldLogp: new Float32Array(L),
      values: new Float32Array(L),
      entropy: new Float32Array(L),
      refLogp: null,
      refRows: null,
      kl: null,
      score: it.score,
      rewards: new Float32Array(L),
      adv: new Float32Array(L),
      ret: new Float32Array(L),
    };
    for (let j = 0; j < L; j++, k++) {
      const pos = b * T + it.prompt.length + j - 1;
      logSoftmaxRow(logp, logits, (rows === undefined ? pos : k) * V, V, invTemp);
      r.oldLogp[j] = logp[it.response[j]];
      r.entropy[j] = entropyRow(logp, V);
      if (values) r.values[j] = values[pos];
      if (ref !== null) polRows.push(logp.slice());
    }
    return r;
  });
  if (ref === null) return rollouts;
  const refRowsOnly = ref.kind === "base" || ref.model instanceof LlamaModel;
  const refOnly = rows !== undefined && refRowsOnly ? { logitRows: rows } : {};
  const refLogits =
    ref.kind === "base"
      ? model.forward(tokens, B, T, { train: false, disableLora: true, ...refOnly }).logits
      : ref.model.forward(tokens, B, T, { train: false, ...refOnly }).logits;
  const refCompact = rows !== undefined && refRowsOnly;
  k = 0;
  const refRow = new Float64Array(V);
  let row = 0;
  rollouts.forEach((r, b) => {
    const L = r.response.length;
    r.refLogp = new Float32Array(L);
    r.kl = new Float32Array(L);
    if (keepRefRows) r.refRows = new Float32Array(L * V);
    for (let j = 0; j < L; j++, k++) {
      const pos = b * T + r.prompt.length + j - 1;
      logSoftmaxRow(refRow, refLogits, (refCompact ? k : pos) * V, V, invTemp);
      r.refLogp[j] = refRow[r.response[j]];
      if (r.refRows) r.refRows.set(refRow, j * V);
      r.kl[j] = klRow(polRows[row++], refRow, 0, V);
    }
  });
  return rollouts;
}
