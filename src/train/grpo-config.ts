/**
 * The GRPO trainer's one Config: TRL 1.13 GRPOConfig's algorithm knobs under their TRL names (camelCase, as PpoConfig
 * spells TRL's `cliprange_value` as `cliprangeValue`), plus the seed's temperature and entropy schedules; every field
 * documented and defaulted. `mst export --target trl` maps each field onto its GRPOConfig key (the TRL key is named in
 * each description).
 */
import { z } from "zod";
import { adamWFields, checkpointEveryField, keepCheckpointsField, logEveryField, loraField } from "./config-fields.js";
import { LinearScheduleSchema } from "./schedules.js";

export const GRPO_LOSS_TYPES = ["grpo", "bnpo", "dr_grpo", "dapo"] as const;
export type GrpoLossType = (typeof GRPO_LOSS_TYPES)[number];
export const GRPO_SCALE_REWARDS = ["group", "batch", "none"] as const;
export type GrpoScaleRewards = (typeof GRPO_SCALE_REWARDS)[number];

export const GrpoConfigSchema = z.strictObject({
  lr: z.number().positive().default(1e-6).describe("AdamW learning rate (TRL: learning_rate). Default 1e-6 (TRL's)."),
  lrSchedule: z
    .enum(["constant", "cosine"])
    .default("constant")
    .describe("'constant' or 'cosine' over `steps` after `warmupSteps` (TRL: lr_scheduler_type). Default constant."),
  warmupSteps: z.number().int().min(0).default(0).describe("Linear LR warm-up in GRPO steps (cosine only). Default 0."),
  ...adamWFields,
  steps: z
    .number()
    .int()
    .positive()
    .default(100)
    .describe("GRPO steps: one generation batch sampled, scored and trained on per step. Default 100."),
  batchSize: z
    .number()
    .int()
    .positive()
    .default(64)
    .describe(
      "Completions generated per step (TRL: generation_batch_size): batchSize / numGenerations prompts, each " +
        "answered numGenerations times. Must be a multiple of numGenerations. Default 64.",
    ),
  numGenerations: z
    .number()
    .int()
    .min(2)
    .default(8)
    .describe("Completions per prompt, G; advantages are taken within each group (TRL: num_generations). Default 8."),
  miniBatchSize: z
    .number()
    .int()
    .positive()
    .default(16)
    .describe("Completions per forward/backward (TRL: per_device_train_batch_size, one device). Default 16."),
  gradAccum: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe(
      "Mini-batches accumulated per optimizer step (TRL: gradient_accumulation_steps); each pass over a generation " +
        "batch takes batchSize / (miniBatchSize x gradAccum) optimizer steps. Default 1.",
    ),
  numIterations: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe("Passes over each generation batch, mu in the GRPO paper (TRL: num_iterations). Default 1."),
  scaleRewards: z
    .enum(GRPO_SCALE_REWARDS)
    .default("group")
    .describe(
      "Advantage = reward - its group's mean, divided by (std + 1e-4) where std (Bessel-corrected, as TRL) is the " +
        "group's ('group'), the whole batch's ('batch'), or not divided at all ('none', Dr. GRPO) (TRL: " +
        "scale_rewards). Default group.",
    ),
  lossType: z
    .enum(GRPO_LOSS_TYPES)
    .default("dapo")
    .describe(
      "How token losses are averaged (TRL: loss_type): 'grpo' the mean over sequences of each sequence's token " +
        "mean; 'bnpo' the mean over the mini-batch's tokens; 'dr_grpo' the sum over the mini-batch divided by " +
        "(completions x maxNewTokens); 'dapo' the sum over an optimizer step's tokens divided by the generation " +
        "batch's mean token count per accumulation window. Default dapo (TRL's).",
    ),
  epsilon: z
    .number()
    .positive()
    .default(0.2)
    .describe("Lower clip of the policy ratio, 1 - epsilon (TRL: epsilon). Default 0.2."),
  epsilonHigh: z
    .number()
    .positive()
    .nullable()
    .default(null)
    .describe("Upper clip of the policy ratio, 1 + epsilonHigh; null: epsilon (TRL: epsilon_high). Default null."),
  beta: z
    .number()
    .min(0)
    .default(0)
    .describe(
      "Coefficient of the KL to the frozen base (the model with LoRA off, or a frozen clone) added to every token's " +
        "loss, estimated as TRL does (k3: exp(ref - logp) - (ref - logp) - 1) (TRL: beta). 0 disables it. Default 0.",
    ),
  logKl: z
    .boolean()
    .default(false)
    .describe("Log the exact KL to the reference even when beta is 0 (one reference forward per step). Default false."),
  entropy: LinearScheduleSchema.default({ start: 0, end: 0, fraction: 1 }).describe(
    "Entropy bonus coefficient, linear from start to end over `fraction` of training: minus coefficient x the " +
      "mini-batch's mean token entropy, whatever the lossType (TRL: entropy_coef, a constant). Default 0 (off).",
  ),
  temperature: LinearScheduleSchema.default({ start: 1, end: 1, fraction: 1 }).describe(
    "Sampling temperature, linear from start to end over `fraction` of training, then held (TRL: temperature, a " +
      "constant). Default 1.",
  ),
  temperatureInLoss: z
    .boolean()
    .default(true)
    .describe(
      "Score log-probs, entropy and KL on logits / temperature, the distribution sampled (as TRL's GRPO). false: on " +
        "the raw logits. Default true.",
    ),
  maxNewTokens: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe("Completion length cap in tokens (TRL: max_completion_length; dr_grpo's constant). Default 1."),
  stopIds: z.array(z.number().int().min(0)).default([]).describe("Tokens that end a completion (kept). Default none."),
  padId: z.number().int().min(0).default(0).describe("Token id used to right-pad batches. Default 0."),
  maxGradNorm: z.number().positive().default(1).describe("Global gradient-norm clip per optimizer step. Default 1.0."),
  seed: z.number().int().default(0).describe("Seed for prompts, sampling, batch order and dropout. Default 0."),
  lora: loraField,
  checkpointEvery: checkpointEveryField,
  keepCheckpoints: keepCheckpointsField,
  logEvery: logEveryField,
});
export type GrpoConfigInput = z.input<typeof GrpoConfigSchema>;
export type GrpoConfig = z.output<typeof GrpoConfigSchema>;

/** The config's own consistency (what zod's field checks cannot see); each problem names its field. */
export function grpoConfigIssues(c: GrpoConfig): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (c.batchSize % c.numGenerations !== 0)
    out.push({
      field: "batchSize",
      message: `${c.batchSize} completions per step do not split into groups of numGenerations ${c.numGenerations}`,
    });
  return out;
}
