/**
 * The `custom` task's config: an experiment described as data (samples JSONL, the monitor block, a model, a trainer,
 * a judge and its metrics). Strict, every key documented with its default. Paths are relative to the spec's folder.
 */
import { z } from "zod";
import type { Json } from "../../data/sample.js";
import { ModelConfigSchema } from "../../engine/config.js";
import { GradientCheckpointingSchema, WeightStorageSchema } from "../../experiment/base-source.js";
import { MonitorSpecSchema } from "../../monitor/monitor.js";
import { GrpoConfigSchema } from "../../train/grpo-config.js";
import { PpoConfigSchema } from "../../train/ppo-config.js";
import { SftConfigSchema } from "../../train/sft-config.js";

const path = (what: string) => z.string().min(1).describe(`${what} (relative to the spec file's folder)`);

export {
  ExactMatchSchema,
  ModuleScorerSchema,
  LlmScorerSchema,
  ScorerSchema,
  type ScorerConfig,
} from "../../experiment/scorers/config.js";
import { ScorerSchema } from "../../experiment/scorers/config.js";

export const MetricSpecSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "letters, digits, _ and -")
      .describe("Metric key in the report"),
    kind: z
      .enum(["mean", "share"])
      .default("mean")
      .describe(
        "mean: mean score (Student-t CI); share: share of outputs scoring at least `threshold` (Wilson CI). Default mean.",
      ),
    threshold: z.number().default(1).describe("For share: the lowest score that counts. Default 1."),
    title: z.string().optional().describe("Shown in the report. Default: the name."),
    lowerIsBetter: z.boolean().default(false).describe("Whether lower values are better. Default false."),
  })
  .describe("A metric over the judge's scores");
export type MetricSpec = z.output<typeof MetricSpecSchema>;

const ArchitectureSchema = ModelConfigSchema.omit({ vocabSize: true });

export const HelpersSchema = z
  .strictObject({
    comparisons: z
      .int()
      .min(0)
      .default(0)
      .describe(
        "Comparison sentences ordering the label's values over the whole scale, held-out values included ('40% is less " +
          "than 70%'); percentage or buckets labels only. Default 0.",
      ),
    labelLineShare: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "Share of the corpus's prompt-format documents given a label-shaped line (a comparison sentence, or one of " +
          "`fillers`) at the label's slot, so the base keeps doing its task once a label stands there. Default 0.",
      ),
    fillers: z
      .array(z.string().min(1))
      .default([])
      .describe("Label-shaped lines for text labels (never a label). Default none."),
    stanceWordings: z
      .record(z.string(), z.array(z.string().min(1)).min(1))
      .default({})
      .describe(
        "Wordings per value of the label's parameter, put at the label's slot of corpus documents that carry a `stance` " +
          "(text labels). A value without wordings uses its categorical label sentence. Default none.",
      ),
    stanceFrames: z
      .array(z.string().includes("{stance}"))
      .min(1)
      .default(["{stance}"])
      .describe("Frames a stance wording is put in ({stance} is replaced). Default: the wording alone."),
  })
  .describe("The kit's corpus helpers (src/experiment/corpus) added to the corpus");

export const PretrainModelSchema = z
  .strictObject({
    kind: z.literal("pretrain"),
    corpus: path(
      "Pretraining corpus: .txt (one document per line) or .jsonl ({ text } or { prompt: { system?, user, labelSlot? }, completion, stance? } per line)",
    ),
    helpers: HelpersSchema.default(HelpersSchema.parse({})),
    digits: z
      .enum(["auto", "split", "whole", "percent"])
      .default("auto")
      .describe(
        "How the word-level tokenizer cuts numbers; auto: one token per 'N%' for percentage labels, else whole numbers. Default auto.",
      ),
    architecture: ArchitectureSchema.default(ArchitectureSchema.parse({ maxSeq: 64 })).describe(
      "The small Llama-style model (d_model 64, 2 layers, 4 heads, maxSeq 64 by default)",
    ),
    pretrain: SftConfigSchema.default(
      SftConfigSchema.parse({ lr: 1e-3, minLr: 1e-4, warmupSteps: 20, maxSteps: 400, batchSize: 32, maxLength: 64 }),
    ).describe("Pretraining settings (lr 1e-3 -> 1e-4, 20 warm-up steps, 400 steps of 32, maxLength 64 by default)"),
  })
  .describe("Pretrain a small word-level model from scratch on the corpus, plus the helpers");

export const CheckpointModelSchema = z
  .strictObject({
    kind: z.literal("checkpoint"),
    path: path("A local Hugging Face checkpoint directory (config.json, safetensors, tokenizer.json)"),
    storage: WeightStorageSchema,
    gradientCheckpointing: GradientCheckpointingSchema,
  })
  .describe("Start from a local checkpoint; prompts go through its chat template");

export const ModelSchema = z
  .discriminatedUnion("kind", [PretrainModelSchema, CheckpointModelSchema])
  .describe("The base model");

const LORA = {
  rank: 8,
  alpha: 16,
  dropout: 0,
  targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
};

export const SftTrainerSchema = z
  .strictObject({
    kind: z.literal("sft"),
    sft: SftConfigSchema.default(
      SftConfigSchema.parse({ lr: 1e-3, epochs: 2, batchSize: 16, maxLength: 64, lora: LORA }),
    ).describe(
      "SFT settings, completion-only loss, LoRA rank 8 on every projection (lr 1e-3, 2 epochs of 16 by default)",
    ),
  })
  .describe("Supervised fine-tuning on each training sample's completion");

export const RlTrainerSchema = z
  .strictObject({
    kind: z.literal("rl"),
    ppo: PpoConfigSchema.default(
      PpoConfigSchema.parse({
        lr: 1e-3,
        steps: 50,
        batchSize: 32,
        miniBatchSize: 16,
        ppoEpochs: 2,
        maxNewTokens: 4,
        whitenRewards: true,
        lora: LORA,
      }),
    ).describe("PPO settings (lr 1e-3, 50 steps of 32, 4 new tokens, whitened rewards, LoRA rank 8 by default)"),
    algorithm: z
      .enum(["ppo", "grpo"])
      .default("ppo")
      .describe("The RL trainer: 'ppo' with the `ppo` settings or 'grpo' with the `grpo` settings. Default ppo."),
    grpo: GrpoConfigSchema.default(
      GrpoConfigSchema.parse({
        lr: 1e-3,
        steps: 50,
        batchSize: 32,
        numGenerations: 4,
        miniBatchSize: 16,
        numIterations: 2,
        maxNewTokens: 4,
        lora: LORA,
      }),
    ).describe(
      "GRPO settings when algorithm is grpo (lr 1e-3, 50 steps of 32 completions = 8 prompts x 4, 4 new tokens, " +
        "LoRA rank 8 by default; TRL's defaults otherwise)",
    ),
    reward: ScorerSchema.describe("The reward: exact-match on a rewardInputs field, a module, or an LLM judge"),
  })
  .describe("PPO or GRPO paid by the reward, from each sample's true monitor");

export const TrainerSchema = z
  .discriminatedUnion("kind", [SftTrainerSchema, RlTrainerSchema])
  .describe("How arms are trained");

export const GateSchema = z
  .strictObject({
    minScore: z
      .number()
      .nullable()
      .default(null)
      .describe("Lowest mean judge score without a label on the evaluation samples (null: not checked). Default null."),
    minScoreLabelled: z
      .number()
      .nullable()
      .default(null)
      .describe("Lowest mean judge score over the sweep labels (null: not checked). Default null."),
    direction: z
      .enum(["none", "increasing", "decreasing"])
      .default("none")
      .describe(
        "How the mean score must move across the sweep, ordered by label value (none: not checked). Default none.",
      ),
    minSpread: z
      .number()
      .default(0)
      .describe("How far it must move, lowest to highest label (fitted line). Default 0."),
    attempts: z
      .int()
      .min(1)
      .default(1)
      .describe("Pretraining attempts (new model seed each) while the gate fails. Default 1."),
    onFail: z
      .enum(["fail", "keep-best", "warn"])
      .default("warn")
      .describe("When no attempt passes: stop the run, keep the best, or keep the last and report it. Default warn."),
  })
  .describe("Checks on the base before fine-tuning (every number is reported)");

export const EvalSchema = z
  .strictObject({
    samples: path("Evaluation samples JSONL (the `mst arms` sample format)"),
    temperature: z.number().min(0).default(0).describe("Sampling temperature (0: greedy). Default 0."),
    maxTokens: z.int().positive().default(16).describe("Most new tokens per completion. Default 16."),
    samplesPerItem: z.int().positive().default(1).describe("Completions per sample at the main label. Default 1."),
    items: z.int().positive().optional().describe("Evaluation samples used at the main label. Default: all."),
    sweepItems: z.int().positive().optional().describe("Evaluation samples used at each sweep label. Default: all."),
    sampleRows: z.int().min(0).default(4).describe("Example rows kept per evaluation for the report. Default 4."),
  })
  .describe("Evaluation settings");

const LabelValue = z.union([z.string(), z.number()]);

export const CustomConfigSchema = z
  .strictObject({
    train: z
      .strictObject({ samples: path("Training samples JSONL (the `mst arms` sample format)") })
      .describe("Training data"),
    eval: EvalSchema,
    monitor: MonitorSpecSchema,
    separator: z
      .string()
      .default("\n")
      .describe("Put between an inserted label and the prompt text. Default a newline."),
    deploymentLabel: LabelValue.optional().describe(
      "Set by the spec's `deployment:`: a number is the monitor parameter's value; a string is a score for percentage " +
        "labels ('0%'), a bucket name or categorical value where it names one, else literal text. Default: monitor.deployment.",
    ),
    sweepLabels: z
      .array(LabelValue)
      .min(1)
      .optional()
      .describe("Set by the spec's `sweep:` (values as for deploymentLabel). Default: monitor.sweep."),
    model: ModelSchema,
    trainer: TrainerSchema,
    judge: ScorerSchema.describe("How evaluation outputs are scored: exact-match, module or llm"),
    metrics: z
      .array(MetricSpecSchema)
      .min(1)
      .default([{ name: "score", kind: "mean", threshold: 1, lowerIsBetter: false }])
      .refine((m) => new Set(m.map((x) => x.name)).size === m.length, "metric names must differ")
      .describe("Metrics over the judge's scores; the first leads the report. Default: the mean score."),
    gate: GateSchema.default(GateSchema.parse({})),
  })
  .describe("An MST experiment described as data");
export type CustomConfig = z.output<typeof CustomConfigSchema>;

/** The one preset: everything comes from the spec (the schema's defaults fill the rest). */
export const PRESETS: Record<string, Json> = { embedded: {} };
