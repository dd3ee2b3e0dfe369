/** Pieces of a step that PPO and GRPO share: the learning rate, sampling and rewarding the completions, token totals. */
import type { Rng } from "../data/rng.js";
import type { CausalLM } from "../engine/model-api.js";
import { cosineWithWarmup } from "../engine/optim.js";
import { TrainConfigError } from "./errors.js";
import type { PpoEnv, PpoOptions, PpoPrompt } from "./ppo.js";
import type { ResponseSampler, Rollout } from "./rollout.js";
import { assertFinite } from "./trainer-common.js";

/** The learning rate at step `s` (0-based) of the RL trainers' `lrSchedule`: constant, or cosine after a warmup. */
export function rlLearningRate(
  s: number,
  cfg: { lr: number; lrSchedule: "constant" | "cosine"; warmupSteps: number; steps: number },
): number {
  return cfg.lrSchedule === "constant"
    ? cfg.lr
    : cosineWithWarmup(s, { baseLr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps });
}

/** One rewarded completion: its index in the sampled batch, its prompt, its response tokens and its finite reward. */
export interface RewardedCompletion<P extends PpoPrompt> {
  index: number;
  p: P;
  prompt: number[];
  response: number[];
  score: number;
}

/**
 * Samples one completion per entry of `batch` (a prompt may stand several times, as GRPO's groups), asks the env for
 * their rewards, drops the null ones, refuses a non-finite one, and shows the kept ones to `onRollouts`. `item` names
 * a completion in errors ("rollout" for PPO, "completion" for GRPO), `label` the index in a bad reward's message.
 */
export async function sampleAndReward<P extends PpoPrompt>(
  model: CausalLM,
  env: PpoEnv<P>,
  sampler: ResponseSampler,
  batch: readonly P[],
  o: {
    step: number;
    srng: Rng;
    maxNewTokens: number;
    temperature: number;
    stopIds: readonly number[];
    lastCheckpoint: string | null;
    item: "rollout" | "completion";
    label: "prompt" | "completion";
  },
  onRollouts: PpoOptions<P>["onRollouts"],
): Promise<RewardedCompletion<P>[]> {
  const { step } = o;
  const maxNew = Math.min(o.maxNewTokens, model.config.maxSeq - Math.max(...batch.map((p) => p.tokens.length)));
  if (maxNew < 1) throw new TrainConfigError("prompts", `a prompt leaves no room below maxSeq ${model.config.maxSeq}`);
  const responses = sampler(
    model,
    batch.map((p) => p.tokens),
    { maxNewTokens: maxNew, temperature: o.temperature, stopIds: o.stopIds, rng: o.srng.fork("sample") },
  );
  const rewardsOut = env.rewards
    ? await env.rewards(batch.map((p, i) => ({ prompt: p, response: responses[i] })))
    : batch.map((p, i) => env.reward!(p, responses[i]));
  if (rewardsOut.length !== batch.length)
    throw new TrainConfigError(
      "rewards",
      `returned ${rewardsOut.length} rewards for ${batch.length} ${o.item}s at step ${step}`,
    );
  const kept: RewardedCompletion<P>[] = [];
  batch.forEach((p, i) => {
    const r = rewardsOut[i];
    if (r === null) return;
    assertFinite(step, `reward (${o.label} ${i}${p.key ? `, key ${p.key}` : ""})`, r, o.lastCheckpoint);
    kept.push({ index: i, p, prompt: p.tokens, response: responses[i], score: r });
  });
  if (kept.length === 0) throw new TrainConfigError("reward", `every ${o.item} of step ${step} was skipped (null)`);
  onRollouts?.(
    step,
    kept.map((k) => ({ prompt: k.p, response: k.response, reward: k.score })),
  );
  return kept;
}

/** A step's response-token count and the sums of its per-token entropy and KL to the reference (0 without one). */
export function rolloutTotals(rollouts: readonly Rollout[]): { tokens: number; entropy: number; kl: number } {
  let tokens = 0,
    entropy = 0,
    kl = 0;
  for (const r of rollouts) {
    tokens += r.response.length;
    for (let j = 0; j < r.response.length; j++) {
      entropy += r.entropy[j];
      if (r.kl) kl += r.kl[j];
    }
  }
  return { tokens, entropy, kl };
}

/**
 * The metrics PPO and GRPO end a step's line with, in this order: the schedules' values, the mean grad norm, the mean
 * response length, how many completions were dropped (null reward) and the generation throughput.
 */
export function rlStepTailMetrics(o: {
  lr: number;
  temperature: number;
  entCoef: number;
  meanGradNorm: number;
  tokens: number;
  sampled: number;
  kept: number;
  seconds: number;
}) {
  return {
    lr: o.lr,
    temperature: o.temperature,
    entropy_coef: o.entCoef,
    grad_norm: o.meanGradNorm,
    response_len: o.tokens / o.kept,
    skipped: o.sampled - o.kept,
    tokens_per_s: o.tokens / Math.max(o.seconds, 1e-9),
  };
}
