/**
 * PPO for prompts scored by a task's reward function: rollouts at a scheduled temperature, a value head, GAE,
 * reward/advantage whitening, clipped policy and value losses, a scheduled entropy bonus, an optional KL penalty to
 * the frozen base, mini-batches, PPO epochs, gradient accumulation, grad-norm clipping, checkpoints and exact resume.
 *
 * ```ts
 * const env = {
 *   prompts: (step, rng, n) => Array.from({ length: n }, () => ({ tokens: [1] })),
 *   reward: (_prompt, response) => (response[0] === 3 ? 1 : 0),
 * };
 * const res = await trainPpo(model, env, { ...ppoPresets.paper, steps: 50 }, { outDir: "runs/ppo" });
 * ```
 */
import { Rng } from "../data/rng.js";
import type { CausalLM } from "../engine/model-api.js";
import { LlamaModel } from "../engine/model.js";
import { clipGradNorm } from "../engine/optim.js";
import { meanStd } from "./advantages.js";
import { TrainConfigError } from "./errors.js";
import type { StepMetrics } from "./metrics-log.js";
import { PpoConfigSchema, type PpoConfig, type PpoConfigInput } from "./ppo-config.js";
import { ppoLoss, responseRows, type PpoLossStats } from "./ppo-loss.js";
import { assignAdvantages } from "./ppo-rewards.js";
import { defaultSampler, scoreRollouts, type Reference, type ResponseSampler } from "./rollout.js";
import { rlLearningRate, rlStepTailMetrics, rolloutTotals, sampleAndReward } from "./rl-step.js";
import { linearSchedule } from "./schedules.js";
import {
  assertFinite,
  endStep,
  openTrainingState,
  ensureLora,
  ensureValueHead,
  packRightPadded,
} from "./trainer-common.js";

/** A prompt handed out by the environment; `key` lets the task find its sample again in `reward`. */
export interface PpoPrompt {
  tokens: number[];
  key?: string;
}

/**
 * What a task gives the PPO trainer. `prompts` must be a pure function of (step, rng, n) so a resumed run sees
 * the same prompts; `reward` returns a finite number, or null to drop the rollout from the batch.
 */
export interface PpoEnv<P extends PpoPrompt = PpoPrompt> {
  prompts(step: number, rng: Rng, n: number): P[];
  /** One rollout's reward. Ignored when `rewards` is given. */
  reward?(prompt: P, responseTokens: number[]): number | null;
  /**
   * A whole step's rewards in one call, in order, possibly async (an LLM judge or a remote reward server as the
   * monitor): the trainer awaits it.
   */
  rewards?(batch: ReadonlyArray<{ prompt: P; response: number[] }>): Promise<(number | null)[]> | (number | null)[];
}

export interface PpoOptions<P extends PpoPrompt = PpoPrompt> {
  /** Run directory: metrics.jsonl and checkpoints/ go here. Without it nothing is written. */
  outDir?: string;
  /** Called every `logEvery` steps and at the last step (the runner draws the progress bar). */
  onProgress?(step: number, total: number, metrics: StepMetrics): void;
  /** Continue from the newest checkpoint in outDir/checkpoints when there is one. Default false. */
  resume?: boolean;
  /** Frozen reference for the KL when the model has no LoRA and no `clone()`. */
  reference?: CausalLM;
  /** Response sampler; default: the engine's KV-cached sampler for a LlamaModel, else forward-per-token. */
  sampler?: ResponseSampler;
  /** Sees every step's rollouts (e.g. to log samples). */
  onRollouts?(step: number, rollouts: readonly { prompt: P; response: number[]; reward: number }[]): void;
}

export interface PpoResult {
  steps: number;
  /** Metrics of the last step. */
  last: StepMetrics | null;
  resumedFrom: number | null;
  checkpoint: string | null;
}

interface Cloneable {
  clone(): CausalLM;
}

/**
 * The frozen reference a KL needs: the model's own base with LoRA off, a given model, or a clone taken now; null when
 * no KL is asked for or logged. `field` names the KL coefficient in errors (PPO's klCoef, GRPO's beta).
 */
export function resolveReference(
  model: CausalLM,
  kl: { coef: number; log: boolean; field: string },
  given: CausalLM | undefined,
): Reference {
  if (kl.coef === 0 && !kl.log) return null;
  if (model.lora !== null) return { kind: "base" };
  if (given) return { kind: "model", model: given };
  const c = model as unknown as Partial<Cloneable>;
  if (typeof c.clone === "function") return { kind: "model", model: c.clone() };
  if (kl.coef > 0)
    throw new TrainConfigError(kl.field, "a KL penalty needs LoRA, a model with clone(), or options.reference");
  return null;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Trains `model` (policy + value head) in place with PPO on `env` and returns the last step's metrics. */
export async function trainPpo<P extends PpoPrompt>(
  model: CausalLM,
  env: PpoEnv<P>,
  configInput: PpoConfigInput,
  options: PpoOptions<P> = {},
): Promise<PpoResult> {
  const cfg: PpoConfig = PpoConfigSchema.parse(configInput);
  if (!env.rewards && !env.reward) throw new TrainConfigError("env", "a PPO environment needs reward() or rewards()");
  const root = new Rng(`ppo/${cfg.seed}`);
  ensureLora(model, cfg.lora, cfg.seed);
  ensureValueHead(model, cfg.seed);
  // the reference must be the base as it was before any training, so it is taken before a checkpoint is loaded
  const ref = resolveReference(model, { coef: cfg.klCoef, log: cfg.logKl, field: "klCoef" }, options.reference);
  const params = model.trainableParameters();
  const V = model.config.vocabSize;
  const sampler = options.sampler ?? defaultSampler(cfg.padId);
  const state = openTrainingState("ppo", params, cfg, options);
  const { opt, log, startStep, resumedFrom } = state;
  let { lastCheckpoint, last } = state;
  const backwardBatch = cfg.miniBatchSize * cfg.gradAccum;
  let dLogits = new Float32Array(0);
  let dValues = new Float32Array(0);

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

      // 1. rollouts
      const prompts = env.prompts(s, srng.fork("prompts"), cfg.batchSize);
      const kept = await sampleAndReward(
        model,
        env,
        sampler,
        prompts,
        {
          step,
          srng,
          maxNewTokens: cfg.maxNewTokens,
          temperature,
          stopIds: cfg.stopIds,
          lastCheckpoint,
          item: "rollout",
          label: "prompt",
        },
        options.onRollouts,
      );
      const rollouts = scoreRollouts(model, kept, invTemp, cfg.padId, ref, cfg.klCoef > 0 && cfg.klMode === "loss");
      assignAdvantages(rollouts, {
        whitenRewards: cfg.whitenRewards,
        whitenAdvantages: cfg.whitenAdvantages,
        klRewardCoef: cfg.klMode === "reward" ? cfg.klCoef : 0,
        gamma: cfg.gamma,
        lam: cfg.lam,
      });

      // 2. PPO epochs over shuffled mini-batches, one optimizer step per backward batch
      const stats: PpoLossStats[] = [];
      const norms: number[] = [];
      for (let e = 0; e < cfg.ppoEpochs; e++) {
        const order = srng.fork(`epoch/${e}`).shuffle(rollouts.map((_, i) => i));
        for (let bb = 0; bb < order.length; bb += backwardBatch) {
          const chunk = order.slice(bb, bb + backwardBatch);
          const nMini = Math.ceil(chunk.length / cfg.miniBatchSize);
          model.zeroGrad();
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
              rng: srng.fork(`dropout/${e}/${bb}/${m}`),
              ...(rows === undefined ? {} : { logitRows: rows }),
            });
            if (!out.values) throw new TrainConfigError("model", "training forward returned no values");
            const P = rows === undefined ? B * T : rows.length;
            if (dLogits.length !== P * V) dLogits = new Float32Array(P * V);
            else dLogits.fill(0);
            if (dValues.length !== B * T) dValues = new Float32Array(B * T);
            else dValues.fill(0);
            const st = ppoLoss(
              out.logits,
              out.values,
              T,
              V,
              mb,
              {
                clipRange: cfg.clipRange,
                cliprangeValue: cfg.cliprangeValue,
                vfCoef: cfg.vfCoef,
                entCoef,
                klLossCoef: cfg.klMode === "loss" ? cfg.klCoef : 0,
                invTemp,
                gradScale: 1 / nMini,
              },
              dLogits,
              dValues,
              rows !== undefined,
            );
            assertFinite(step, "loss", st.loss, lastCheckpoint);
            stats.push(st);
            model.backward(dLogits, dValues);
          }
          const norm = clipGradNorm(params, cfg.maxGradNorm);
          assertFinite(step, "grad_norm", norm, lastCheckpoint);
          norms.push(norm);
          opt.step(lr);
        }
      }

      // 3. metrics, checkpoint, progress
      const scores = meanStd(rollouts.map((r) => r.score));
      const { tokens: nTok, entropy: ent, kl } = rolloutTotals(rollouts);
      const dt = (performance.now() - t0) / 1000;
      last = {
        step,
        loss: mean(stats.map((x) => x.loss)),
        pg_loss: mean(stats.map((x) => x.pgLoss)),
        value_loss: mean(stats.map((x) => x.vfLoss)),
        reward_mean: scores.mean,
        reward_std: scores.std,
        entropy: ent / nTok,
        kl: ref ? kl / nTok : null,
        clip_frac: mean(stats.map((x) => x.clipFrac)),
        vf_clip_frac: mean(stats.map((x) => x.vfClipFrac)),
        approx_kl: mean(stats.map((x) => x.approxKl)),
        ...rlStepTailMetrics({
          lr,
          temperature,
          entCoef,
          meanGradNorm: mean(norms),
          tokens: nTok,
          sampled: prompts.length,
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
        () => ({ trainer: "ppo", rng: root.state(), dataPosition: { step }, config: cfg }),
        options.onProgress,
      );
    }
  } finally {
    log.close();
  }
  return { steps: cfg.steps, last, resumedFrom, checkpoint: lastCheckpoint };
}
