/**
 * Batched autoregressive sampling with a KV cache (temperature, top-k, top-p, stop ids), returning per-token
 * log-probs and entropies for PPO, and `nextTokenLogprobs` for measuring probability mass on answer tokens.
 */

import { Rng } from "../data/rng.js";
import type { LlamaModel } from "./model.js";
import { logSoftmaxForward } from "./ops/softmax.js";
import { drawScored, RowScratch, topLogprobsOf } from "./sampler-rows.js";

export { drawScored, drawToken, logprobAndEntropy, topLogprobsOf } from "./sampler-rows.js";

export interface SampleOptions {
  /** Most tokens generated per prompt. */
  maxNewTokens: number;
  /** Softmax temperature for drawing tokens; 0 = greedy (argmax, lowest id on ties). */
  temperature: number;
  /** Keep only the k most likely tokens before drawing (0 or undefined = all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined = all). */
  topP?: number;
  /** Seed of the sampling stream when `rng` is not given. Default 0. */
  seed?: number;
  /** Sampling stream (takes precedence over seed); draws advance it, one per sampled token. */
  rng?: Rng;
  /** Token ids that end a sequence; the stop token is included in `tokens` (and has a log-prob, as PPO needs). */
  stopIds?: number[];
  /** Also record the k most likely tokens (untempered log-probs) at each generated position, as OpenAI's top_logprobs. Default 0. */
  topLogprobs?: number;
  /** Sample from the frozen base, ignoring LoRA adapters. */
  disableLora?: boolean;
  /** Called with (prompt index, token id) as each token is drawn, e.g. to stream text. */
  onToken?: (b: number, id: number) => void;
}

export interface SampleResult {
  /** Generated ids per prompt (prompt excluded). */
  tokens: number[][];
  /**
   * log p(token) of each generated token under the model's *untempered* (temperature 1, no top-k/top-p)
   * next-token distribution: PPO's ratio compares the policy itself, not the sampling distribution.
   */
  logprobs: number[][];
  /** Entropy (nats) of the same untempered next-token distribution at each generated position. */
  entropies: number[][];
  /** "stop" when a stop id was generated, else "length". */
  finish: ("stop" | "length")[];
  /** With `topLogprobs: k`: per prompt, per generated position, the k most likely [id, log p] pairs, most likely first. */
  top?: Array<Array<Array<[number, number]>>>;
}

function checkPrompts(fn: string, prompts: number[][], V: number): void {
  prompts.forEach((p, b) => {
    if (p.length === 0) throw new RangeError(`${fn}: prompt ${b} is empty (needs at least one token)`);
    for (let i = 0; i < p.length; i++)
      if (!Number.isInteger(p[i]) || p[i] < 0 || p[i] >= V)
        throw new RangeError(`${fn}: prompt ${b} token ${i} = ${p[i]} is outside [0, ${V})`);
  });
}

/**
 * Samples continuations of every prompt in one batch. Prompts may differ in length: they are prefilled right-padded
 * and each sequence then decodes at its own positions, so padding never affects a result (a batch gives the same
 * logits as one prompt at a time). Needs max prompt length + maxNewTokens - 1 <= config.maxSeq.
 */
export function sample(model: LlamaModel, prompts: number[][], options: SampleOptions): SampleResult {
  const V = model.config.vocabSize;
  const B = prompts.length;
  const { maxNewTokens, temperature } = options;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0)
    throw new RangeError(`sample: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  if (!(temperature >= 0)) throw new RangeError(`sample: temperature must be >= 0, got ${temperature}`);
  const topP = options.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`sample: topP must be in (0, 1], got ${topP}`);
  const topK = options.topK ?? 0;
  checkPrompts("sample", prompts, V);
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const stop = new Set(options.stopIds ?? []);
  const out: SampleResult = {
    tokens: prompts.map(() => []),
    logprobs: prompts.map(() => []),
    entropies: prompts.map(() => []),
    finish: prompts.map(() => "length"),
  };
  const topN = options.topLogprobs ?? 0;
  if (!Number.isInteger(topN) || topN < 0)
    throw new RangeError(`sample: topLogprobs must be a non-negative integer, got ${topN}`);
  if (topN > 0) out.top = prompts.map(() => []);
  if (B === 0 || maxNewTokens === 0) return out;
  const lens = prompts.map((p) => p.length);
  const Tmax = Math.max(...lens);
  const S = Math.max(Tmax, Tmax + maxNewTokens - 1);
  if (S > model.config.maxSeq)
    throw new RangeError(
      `sample: longest prompt (${Tmax}) + maxNewTokens (${maxNewTokens}) - 1 = ${S} exceeds maxSeq ${model.config.maxSeq}`,
    );
  const cache = model.scratchKvCache(B, S);
  const fwd = { disableLora: options.disableLora ?? false };
  // prefill: right-padded batch; row b's next-token logits sit at position lens[b] - 1
  const prefill = new Int32Array(B * Tmax);
  prompts.forEach((p, b) => prefill.set(p, b * Tmax));
  const start = new Int32Array(B);
  // only each prompt's last position needs logits (a [B*Tmax, V] buffer would be gigabytes with a 150k vocabulary)
  const lastRows = Int32Array.from(lens, (n, b) => b * Tmax + n - 1);
  let logits = model.forwardCached(cache, prefill, B, Tmax, start, { ...fwd, logitRows: lastRows }).logits;
  let rowOf = (_i: number, b: number) => b * V;
  const rs = new RowScratch(V);
  const scored: [number, number, number] = [0, 0, 0];
  // live: the sequences still generating; logits row i belongs to sequence live[i] after a decode step
  let live = Int32Array.from({ length: B }, (_, b) => b);
  const next = new Int32Array(B);
  const pos = new Int32Array(B);
  for (let step = 0; step < maxNewTokens; step++) {
    let nLive = 0;
    for (let i = 0; i < live.length; i++) {
      const b = live[i];
      const o = rowOf(i, b);
      drawScored(logits, o, V, temperature, topK, topP, rng, rs, scored);
      const id = scored[0];
      out.tokens[b].push(id);
      out.logprobs[b].push(scored[1]);
      out.entropies[b].push(scored[2]);
      if (out.top) out.top[b].push(topLogprobsOf(logits.subarray(o, o + V), V, Math.min(topN, V)));
      options.onToken?.(b, id);
      if (stop.has(id)) out.finish[b] = "stop";
      else {
        // compact in place: finished sequences leave the decode batch
        live[nLive] = b;
        next[nLive] = id;
        pos[nLive] = lens[b] + step;
        nLive++;
      }
    }
    if (nLive === 0 || step === maxNewTokens - 1) break;
    live = live.subarray(0, nLive);
    // one token per live sequence at its own position, in its own cache row
    logits = model.forwardCached(cache, next, nLive, 1, pos, { ...fwd, rows: live }).logits;
    rowOf = (i: number) => i * V;
  }
  return out;
}

/**
 * The full next-token log-softmax (temperature 1) after each prompt, [V] per prompt. Prompts run in right-padded
 * batches of `batchSize` (default 64) through the cached forward, which leaves training activations alone.
 */
export function nextTokenLogprobs(
  model: LlamaModel,
  prompts: number[][],
  options: { disableLora?: boolean; batchSize?: number } = {},
): Float32Array[] {
  const V = model.config.vocabSize;
  checkPrompts("nextTokenLogprobs", prompts, V);
  const bs = options.batchSize ?? 64;
  const out: Float32Array[] = [];
  for (let i0 = 0; i0 < prompts.length; i0 += bs) {
    const chunk = prompts.slice(i0, i0 + bs);
    const B = chunk.length;
    const Tmax = Math.max(...chunk.map((p) => p.length));
    if (Tmax > model.config.maxSeq)
      throw new RangeError(`nextTokenLogprobs: a prompt has ${Tmax} tokens, maxSeq is ${model.config.maxSeq}`);
    const cache = model.scratchKvCache(B, Tmax);
    const toks = new Int32Array(B * Tmax);
    chunk.forEach((p, b) => toks.set(p, b * Tmax));
    const logits = model.forwardCached(cache, toks, B, Tmax, new Int32Array(B), {
      disableLora: options.disableLora ?? false,
      logitRows: Int32Array.from(chunk, (p, b) => b * Tmax + p.length - 1),
    }).logits;
    chunk.forEach((_p, b) => {
      const o = b * V;
      const row = new Float32Array(V);
      logSoftmaxForward(row, logits.subarray(o, o + V), 1, V);
      out.push(row);
    });
  }
  return out;
}
