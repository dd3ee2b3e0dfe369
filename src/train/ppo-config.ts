/** The PPO trainer's one Config (TRL PPOConfig-style plus the seed's schedules), every field documented and defaulted. */
import { z } from "zod";
import { adamWFields, checkpointEveryField, keepCheckpointsField, logEveryField, loraField } from "./config-fields.js";
import { LinearScheduleSchema } from "./schedules.js";

export const PpoConfigSchema = z.strictObject({
  lr: z.number().positive().default(1.41e-5).describe("AdamW learning rate. Default 1.41e-5 (TRL's)."),
  lrSchedule: z
    .enum(["constant", "cosine"])
    .default("constant")
    .describe("'constant' (TRL PPO) or 'cosine' over `steps` after `warmupSteps`. Default constant."),
  warmupSteps: z.number().int().min(0).default(0).describe("Linear LR warm-up in PPO steps (cosine only). Default 0."),
  ...adamWFields,
  steps: z.number().int().positive().default(100).describe("PPO steps (rollout batch + update). Default 100."),
  batchSize: z.number().int().positive().default(64).describe("Rollouts (prompts) per PPO step. Default 64."),
  miniBatchSize: z.number().int().positive().default(16).describe("Rollouts per forward/backward. Default 16."),
  gradAccum: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe(
      "Mini-batches accumulated per optimizer step (TRL: backward batch = miniBatchSize x gradAccum); each PPO " +
        "epoch takes batchSize / (miniBatchSize x gradAccum) optimizer steps. Default 1.",
    ),
  ppoEpochs: z.number().int().positive().default(4).describe("Passes over each rollout batch. Default 4."),
  clipRange: z.number().positive().default(0.2).describe("Policy ratio clip epsilon. Default 0.2."),
  cliprangeValue: z
    .number()
    .positive()
    .default(0.2)
    .describe("Value prediction clip around the old value. Default 0.2."),
  vfCoef: z.number().min(0).default(0.1).describe("Value loss coefficient. Default 0.1."),
  gamma: z.number().min(0).max(1).default(1).describe("Discount over response tokens. Default 1."),
  lam: z.number().min(0).max(1).default(0.95).describe("GAE lambda. Default 0.95."),
  whitenRewards: z
    .boolean()
    .default(false)
    .describe("Whiten the batch's scores to zero mean, unit variance before GAE. Default false."),
  whitenAdvantages: z
    .boolean()
    .default(true)
    .describe("Whiten advantages over the batch's response tokens (TRL always does). Default true."),
  klCoef: z
    .number()
    .min(0)
    .default(0)
    .describe(
      "KL penalty to the frozen reference (the base without LoRA, or a frozen clone); 0 disables it. Default 0.",
    ),
  klMode: z
    .enum(["reward", "loss"])
    .default("reward")
    .describe(
      "'reward': per-token -klCoef (log pi - log ref) added to the reward (TRL PPO); 'loss': klCoef x exact " +
        "KL(pi || ref) over the vocabulary added to the loss. Default reward.",
    ),
  logKl: z
    .boolean()
    .default(true)
    .describe(
      "Measure KL to the reference even when klCoef is 0 (costs one reference forward per step). Default true.",
    ),
  entropy: LinearScheduleSchema.default({ start: 0, end: 0, fraction: 1 }).describe(
    "Entropy bonus coefficient, linear from start to end over `fraction` of training. Default 0 (off).",
  ),
  temperature: LinearScheduleSchema.default({ start: 1, end: 1, fraction: 1 }).describe(
    "Sampling temperature, linear from start to end over `fraction` of training, then held. Default 1.",
  ),
  temperatureInLoss: z
    .boolean()
    .default(true)
    .describe(
      "Score log-probs, entropy and KL on logits / temperature, i.e. on the distribution actually sampled (keeps " +
        "the PPO ratio on-policy, as TRL's current PPO trainer). false: on the raw logits. Default true.",
    ),
  maxNewTokens: z.number().int().positive().default(1).describe("Response length cap in tokens. Default 1."),
  stopIds: z.array(z.number().int().min(0)).default([]).describe("Tokens that end a response (kept). Default none."),
  padId: z.number().int().min(0).default(0).describe("Token id used to right-pad batches. Default 0."),
  maxGradNorm: z.number().positive().default(1).describe("Global gradient-norm clip per optimizer step. Default 1.0."),
  seed: z.number().int().default(0).describe("Seed for prompts, sampling, mini-batch order and dropout. Default 0."),
  lora: loraField,
  checkpointEvery: checkpointEveryField,
  keepCheckpoints: keepCheckpointsField,
  logEvery: logEveryField,
});
export type PpoConfigInput = z.input<typeof PpoConfigSchema>;
export type PpoConfig = z.output<typeof PpoConfigSchema>;
