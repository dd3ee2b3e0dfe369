/**
 * GRPO (group relative policy optimisation) for prompts scored by a task's reward, as TRL 1.13's GRPOTrainer computes
 * it: numGenerations completions per prompt at a scheduled temperature, advantages relative to each prompt's group (no
 * value head), the clipped token loss with an optional k3 KL to the frozen base, the four loss types, numIterations
 * passes per generation batch, a scheduled entropy bonus, gradient accumulation, grad-norm clipping, checkpoints and
 * exact resume. It takes the same environment as PPO (`PpoEnv`), asked for batchSize / numGenerations prompts per step.
 *
 * ```ts
 * const env = {
 *   prompts: (step, rng, n) => Array.from({ length: n }, () => ({ tokens: [1] })),
 *   reward: (_prompt, response) => (response[0] === 3 ? 1 : 0),
 * };
 * const res = await trainGrpo(model, env, { ...grpoPresets.embedded, steps: 50 }, { outDir: "runs/grpo" });
 * ```
 */
import { Rng } from "../data/rng.js";
import type { CausalLM } from "../engine/model-api.js";
import { LlamaModel } from "../engine/model.js";
import { clipGradNorm } from "../engine/optim.js";
import { meanStd } from "./advantages.js";
import { TrainConfigError } from "./errors.js";
import { groupAdvantages } from "./grpo-advantages.js";
import { GrpoConfigSchema, grpoConfigIssues, type GrpoConfig, type GrpoConfigInput } from "./grpo-config.js";
import { grpoLoss, grpoTokenWeights, type GrpoLossStats } from "./grpo-loss.js";
import { resolveReference, type PpoEnv, type PpoOptions, type PpoPrompt, type PpoResult } from "./ppo.js";
import { responseRows } from "./ppo-loss.js";
import { defaultSampler, scoreRollouts } from "./rollout.js";
import { rlLearningRate, rlStepTailMetrics, rolloutTotals, sampleAndReward } from "./rl-step.js";
import { linearSchedule } from "./schedules.js";
import { assertFinite, endStep, ensureLora, openTrainingState, packRightPadded } from "./trainer-common.js";

/** GRPO asks the same of a task as PPO: prompts by step, and a reward per completion (null drops it). */
export type GrpoEnv<P extends PpoPrompt = PpoPrompt> = PpoEnv<P>;
export type GrpoOptions<P extends PpoPrompt = PpoPrompt> = PpoOptions<P>;
export type GrpoResult = PpoResult;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Parses a GRPO config and checks what the schema cannot (batchSize a multiple of numGenerations). */
export function parseGrpoConfig(input: GrpoConfigInput): GrpoConfig {
  const cfg = GrpoConfigSchema.parse(input);
  const bad = grpoConfigIssues(cfg)[0];
  if (bad) throw new TrainConfigError(bad.field, bad.message);
  return cfg;
}

/** Trains `model` in place with GRPO on `env` and returns the last step's metrics. */
export async function trainGrpo<P extends PpoPrompt>(
  model: CausalLM,
  env: GrpoEnv<P>,
  configInput: GrpoConfigInput,
  options: GrpoOptions<P> = {},
): Promise<GrpoResult> {
  const cfg = parseGrpoConfig(configInput);
  if (!env.rewards && !env.reward) throw new TrainConfigError("env", "a GRPO environment needs reward() or rewards()");
  const G = cfg.numGenerations;
  const root = new Rng(`grpo/${cfg.seed}`);
  ensureLora(model, cfg.lora, cfg.seed);
  // the reference must be the base as it was before any training, so it is taken before a checkpoint is loaded
  const ref = resolveReference(model, { coef: cfg.beta, log: cfg.logKl, field: "beta" }, options.reference);
  const params = model.trainableParameters();
  const V = model.config.vocabSize;
  const sampler = options.sampler ?? defaultSampler(cfg.padId);
  const state = openTrainingState("grpo", params, cfg, options);
  const { opt, log, startStep, resumedFrom } = state;
  let { lastCheckpoint, last } = state;
  const window = cfg.miniBatchSize * cfg.gradAccum;
  const epsHigh = cfg.epsilonHigh ?? cfg.epsilon;
  let dLogits = new Float32Array(0);

  try {
    for (let s = startStep; s < cfg.steps; s++) {
      const step = s + 1;
      const t0 = performance.now();
      // every random draw of a step comes from forks named by the step, so a resume replays them exactly
      const srng = root.fork(`step/${s}`);
      const temperature = linearSchedule(s, cfg.steps, cfg.temperature);
      const entCoef = linearSchedule(s, cfg.steps, cfg.entropy);
      const invTemp = cfg.temperatureInLoss ? 1 / temperature : 1;
      const lr = rlLearningRate(s, cfg);

      // 1. a generation batch: each prompt answered G times (a group), the G copies consecutive as TRL's sampler
      const prompts = env.prompts(s, srng.fork("prompts"), cfg.batchSize / G);
      const batch = prompts.flatMap((p) => Array.from({ length: G }, () => p));
      const kept = await sampleAndReward(
        model,
        env,
        sampler,
        batch,
        {
          step,
          srng,
          maxNewTokens: cfg.maxNewTokens,
          temperature,
          stopIds: cfg.stopIds,
          lastCheckpoint,
          item: "completion",
          label: "completion",
        },
        options.onRollouts,
      );
      const rollouts = scoreRollouts(model, kept, invTemp, cfg.padId, ref, false, false);
      const { advantages, zeroStdShare } = groupAdvantages(
        kept.map((k) => k.score),
        kept.map((k) => Math.floor(k.index / G)),
        cfg.scaleRewards,
      );
      rollouts.forEach((r, i) => r.adv.fill(advantages[i]));
      const totals = rolloutTotals(rollouts);
      const genTokens = totals.tokens;
      const dapoTokens = (genTokens * window) / rollouts.length;

      // 2. numIterations passes over the batch, shuffled once (as TRL), one optimizer step per accumulation window
      const order = srng.fork("order").shuffle(rollouts.map((_, i) => i));
      const stats: GrpoLossStats[] = [];
      const windowLosses: number[] = [];
      const norms: number[] = [];
      for (let it = 0; it < cfg.numIterations; it++) {
        for (let w0 = 0; w0 < order.length; w0 += window) {
          const chunk = order.slice(w0, w0 + window);
          const nMini = Math.ceil(chunk.length / cfg.miniBatchSize);
          model.zeroGrad();
          let windowLoss = 0;
          for (let m = 0; m < nMini; m++) {
            const mb = chunk.slice(m * cfg.miniBatchSize, (m + 1) * cfg.miniBatchSize).map((i) => rollouts[i]);
            const { tokens, B, T } = packRightPadded(
              mb.map((r) => r.prompt.concat(r.response)),
              cfg.padId,
            );
            // the engine's model computes logits at the response rows only ([P, V], not [B, T, V])
            const rows = model instanceof LlamaModel ? responseRows(mb, T) : undefined;
            const out = model.forward(tokens, B, T, {
              train: true,
              rng: srng.fork(`dropout/${it}/${w0}/${m}`),
              ...(rows === undefined ? {} : { logitRows: rows }),
            });
            const P = rows === undefined ? B * T : rows.length;
            if (dLogits.length !== P * V) dLogits = new Float32Array(P * V);
            else dLogits.fill(0);
            const lengths = mb.map((r) => r.response.length);
            let nTok = 0;
            for (const L of lengths) nTok += L;
            const st = grpoLoss(
              out.logits,
              T,
              V,
              mb,
              {
                epsLow: cfg.epsilon,
                epsHigh,
                beta: cfg.beta,
                entCoef,
                invTemp,
                weights: grpoTokenWeights(cfg.lossType, lengths, {
                  nMini,
                  maxNewTokens: cfg.maxNewTokens,
                  dapoTokens,
                }),
                entWeight: 1 / (nTok * nMini),
              },
              dLogits,
              rows !== undefined,
            );
            assertFinite(step, "loss", st.loss, lastCheckpoint);
            stats.push(st);
            windowLoss += st.loss;
            model.backward(dLogits);
          }
          windowLosses.push(windowLoss);
          const norm = clipGradNorm(params, cfg.maxGradNorm);
          assertFinite(step, "grad_norm", norm, lastCheckpoint);
          norms.push(norm);
          opt.step(lr);
        }
      }

      // 3. metrics, checkpoint, progress
      const scores = meanStd(rollouts.map((r) => r.score));
      const dt = (performance.now() - t0) / 1000;
      last = {
        step,
        loss: mean(windowLosses),
        pg_loss: mean(stats.map((x) => x.pgLoss)),
        reward_mean: scores.mean,
        reward_std: scores.std,
        frac_reward_zero_std: zeroStdShare,
        entropy: totals.entropy / genTokens,
        kl: ref ? totals.kl / genTokens : null,
        kl_k3: cfg.beta !== 0 ? mean(stats.map((x) => x.kl)) : null,
        clip_low: mean(stats.map((x) => x.clipLow)),
        clip_high: mean(stats.map((x) => x.clipHigh)),
        ...rlStepTailMetrics({
          lr,
          temperature,
          entCoef,
          meanGradNorm: mean(norms),
          tokens: genTokens,
          sampled: batch.length,
          kept: rollouts.length,
          seconds: dt,
        }),
      };
      lastCheckpoint = endStep(
        state,
        params,
        { step, total: cfg.steps, checkpointEvery: cfg.checkpointEvery, logEvery: cfg.logEvery },
        last,
        lastCheckpoint,
        () => ({ trainer: "grpo", rng: root.state(), dataPosition: { step }, config: cfg }),
        options.onProgress,
      );
    }
  } finally {
    log.close();
  }
  return { steps: cfg.steps, last, resumedFrom, checkpoint: lastCheckpoint };
}
