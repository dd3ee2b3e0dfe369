/** The sycophancy task's one Config (strict, every field documented with its default) and its presets. */
import { z } from "zod";
import type { Json } from "../../data/sample.js";
import { ModelConfigSchema } from "../../engine/config.js";
import { PpoConfigSchema } from "../../train/ppo-config.js";
import { SftConfigSchema } from "../../train/sft-config.js";
import { CorpusConfigSchema } from "./corpus.js";
import { LabelConfigSchema } from "./labels.js";
import { ProblemsConfigSchema } from "./problems.js";
import { PromptConfigSchema } from "./prompt.js";

/** A label given as a percentage: a number (40) or text ("40%"). */
const PercentSchema = z
  .union([z.number().min(0).max(100), z.string().regex(/^\s*\d+(\.\d+)?\s*%?\s*$/, "a percentage such as 40 or '40%'")])
  .transform((v) => (typeof v === "number" ? v : Number(v.replace("%", "").trim())))
  .pipe(z.number().min(0).max(100));

export const BaseModelSchema = ModelConfigSchema.omit({ vocabSize: true }).describe(
  "The embedded base model's architecture (vocabSize comes from the tokenizer). Default d_model 64, 2 layers, 4 heads.",
);

export const EvalConfigSchema = z
  .strictObject({
    temperature: z
      .number()
      .min(0)
      .default(1)
      .describe("Sampling temperature of evaluation verdicts (0 = greedy). Default 1 (sampled, as a deployed model)."),
    sampleRows: z
      .int()
      .min(0)
      .default(6)
      .describe("Example prompts and answers shown in the report per arm. Default 6."),
  })
  .describe("Evaluation settings");

export const GateConfigSchema = z
  .strictObject({
    minAccuracy: z
      .number()
      .min(0)
      .max(1)
      .default(0.55)
      .describe("A base whose sampled no-label accuracy is below this is flagged in the report. Default 0.55."),
    minVerdictMass: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe(
        "A base whose probability on the two verdict tokens with a label prefixed is below this is flagged. Default 0.5.",
      ),
  })
  .describe("Base-model gate, checked and reported before RL (failures are reported, not hidden)");

export const SycophancyConfigSchema = z
  .strictObject({
    dataSeed: z
      .int()
      .default(0)
      .describe("Seed of the problems and of each training problem's s (shared by every arm and seed). Default 0."),
    problems: ProblemsConfigSchema.default(ProblemsConfigSchema.parse({})),
    prompt: PromptConfigSchema.default(PromptConfigSchema.parse({})),
    label: LabelConfigSchema.default(LabelConfigSchema.parse({})),
    deploymentLabel: PercentSchema.default(0).describe("Deployment label as a percentage of the scale. Default 0%."),
    sweepLabels: z
      .array(PercentSchema)
      .min(1)
      .default([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
      .describe("Labels of the sweep (Fig 2c), in percent. Default 0..100 step 10."),
    corpus: CorpusConfigSchema.default(CorpusConfigSchema.parse({})),
    model: BaseModelSchema.default(BaseModelSchema.parse({ maxSeq: 48 })),
    pretrain: SftConfigSchema.default(SftConfigSchema.parse({})).describe(
      "Base pretraining on the corpus: full training, no LoRA (src/train SftConfig; presets set the values).",
    ),
    ppo: PpoConfigSchema.default(PpoConfigSchema.parse({})).describe(
      "PPO of every arm, LoRA on the frozen base (src/train PpoConfig; presets set the values). All arms use the same steps.",
    ),
    gate: GateConfigSchema.default(GateConfigSchema.parse({})),
    eval: EvalConfigSchema.default(EvalConfigSchema.parse({})),
  })
  .describe("Experiment 2: sycophancy on single-digit addition, trained with PPO");
export type SycophancyConfig = z.output<typeof SycophancyConfigSchema>;

/** Named partial configs, deep-merged over the schema defaults. */
export const PRESETS: Record<string, Json> = {
  embedded: {},
};
