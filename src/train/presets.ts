/**
 * Named trainer configs. `paper` reproduces the seed's hyper-parameters exactly (Exp 1: SFT on political articles,
 * Exp 2: PPO on sycophantic addition); `embedded` presets are CPU-sized starting points for the synthetic worlds.
 * The seed used no GRPO, so GRPO has only an embedded preset, set to PPO's where the two share a knob.
 * Tasks pick from these and override what their world needs.
 */
import type { GrpoConfigInput } from "./grpo-config.js";
import type { PpoConfigInput } from "./ppo-config.js";
import type { SftConfigInput } from "./sft-config.js";

/** LoRA on all seven projections, as in both experiments. */
const ALL_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;

export const sftPresets = {
  /**
   * Exp 1 (political bias, Llama-3.2-3B): LoRA r16 / alpha 32 / dropout 0.05 on all projections, lr 2e-4 cosine
   * with 50 warm-up steps, batch 12, no accumulation, 3 epochs, max length 512, max grad norm 0.3, group-by-length.
   * Not reproduced here: 4-bit NF4 base and paged 8-bit AdamW (we train in float32 with plain AdamW).
   */
  paper: {
    lr: 2e-4,
    warmupSteps: 50,
    epochs: 3,
    batchSize: 12,
    gradAccum: 1,
    maxLength: 512,
    maxGradNorm: 0.3,
    groupByLength: true,
    lora: { rank: 16, alpha: 32, dropout: 0.05, targets: [...ALL_PROJECTIONS] },
  },
  /** Small models trained from scratch on the embedded worlds: full fine-tuning, higher LR, short warm-up. */
  embedded: {
    lr: 3e-3,
    warmupSteps: 10,
    epochs: 3,
    batchSize: 16,
    gradAccum: 1,
    maxLength: 256,
    maxGradNorm: 1,
    groupByLength: true,
    lora: null,
  },
} satisfies Record<string, SftConfigInput>;

export const ppoPresets = {
  /**
   * Exp 2 (sycophancy on addition, Qwen-2.5-7B-it): LoRA r512 / alpha 1024 / dropout 0.05 on all projections,
   * lr 2e-8, 128 rollouts per step, mini-batch 16, gradient accumulation 8, 4 PPO epochs, clip 0.2, no KL, reward
   * whitening, max grad norm 1.0, entropy bonus 2.0 -> 0.01 linearly over training, temperature 1.9 -> 1.6 over the
   * first 40% then held, 1,600 steps; the answer is the first token (maxNewTokens 1). Not reproduced: the 4-bit base.
   */
  paper: {
    lr: 2e-8,
    steps: 1600,
    batchSize: 128,
    miniBatchSize: 16,
    gradAccum: 8,
    ppoEpochs: 4,
    clipRange: 0.2,
    klCoef: 0,
    whitenRewards: true,
    maxGradNorm: 1.0,
    entropy: { start: 2.0, end: 0.01, fraction: 1 },
    temperature: { start: 1.9, end: 1.6, fraction: 0.4 },
    maxNewTokens: 1,
    lora: { rank: 512, alpha: 1024, dropout: 0.05, targets: [...ALL_PROJECTIONS] },
  },
  /**
   * The paper's schedules and loss settings at a size a 2-core CPU trains in minutes: full fine-tuning of a small
   * model (LoRA on a d_model-64 model has little capacity), a learning rate suited to it, fewer and smaller steps.
   */
  embedded: {
    lr: 1e-3,
    steps: 200,
    batchSize: 64,
    miniBatchSize: 16,
    gradAccum: 4,
    ppoEpochs: 4,
    clipRange: 0.2,
    klCoef: 0,
    whitenRewards: true,
    maxGradNorm: 1.0,
    entropy: { start: 2.0, end: 0.01, fraction: 1 },
    temperature: { start: 1.9, end: 1.6, fraction: 0.4 },
    maxNewTokens: 1,
    lora: null,
  },
} satisfies Record<string, PpoConfigInput>;

export const grpoPresets = {
  /**
   * PPO's embedded preset where the knobs correspond (lr, steps, completions per step, mini-batch x accumulation,
   * passes per batch, clip, grad norm, the seed's entropy and temperature schedules, full fine-tuning), TRL's
   * defaults for GRPO's own knobs: 8 completions per prompt, group-scaled rewards, the dapo loss, no KL.
   */
  embedded: {
    lr: 1e-3,
    steps: 200,
    batchSize: 64,
    numGenerations: 8,
    miniBatchSize: 16,
    gradAccum: 4,
    numIterations: 4,
    epsilon: 0.2,
    beta: 0,
    scaleRewards: "group",
    lossType: "dapo",
    maxGradNorm: 1.0,
    entropy: { start: 2.0, end: 0.01, fraction: 1 },
    temperature: { start: 1.9, end: 1.6, fraction: 0.4 },
    maxNewTokens: 1,
    lora: null,
  },
} satisfies Record<string, GrpoConfigInput>;
