/** The political-bias task's one Config (strict zod, every default documented) and its presets `embedded`, `quick` and `paper`. */
import { z } from "zod";
import { BaseSourceSchema } from "../../experiment/base-source.js";
import type { Json } from "../../data/sample.js";
import { LoraConfigSchema } from "../../engine/config.js";
import { BiasJudgeConfigSchema } from "../../eval/bias-judge.js";
import { ProviderConfigSchema } from "../../providers/config.js";
import { CorpusConfigSchema } from "./corpus.js";
import { EmbeddedJudgeConfigSchema } from "./judge.js";
import { LabelFrameSchema } from "./labels.js";
import { TopicsConfigSchema } from "./topics.js";
import { WorldConfigSchema } from "./world.js";

const d = <T extends z.ZodType>(schema: T): z.output<T> => schema.parse({}) as z.output<T>;

export const ConditionSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .describe("Short id used in job ids, e.g. 'main' or 'partial-follow'"),
    frame: LabelFrameSchema.default("main"),
    follow: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe("The base's pretraining stance documents follow their stance this often (1 = always)"),
    about: z.string().default("").describe("One sentence for the report: what this condition tests"),
  })
  .describe("A condition: which label frame fine-tuning and evaluation use, and which kind of base");
export type Condition = z.infer<typeof ConditionSchema>;

export const ModelShapeSchema = z
  .strictObject({
    dModel: z.int().positive().default(64).describe("Residual width"),
    nLayers: z.int().positive().default(2).describe("Transformer blocks"),
    nHeads: z.int().positive().default(4).describe("Attention heads"),
    dFf: z.int().positive().default(172).describe("SwiGLU hidden width"),
    maxSeq: z.int().positive().default(192).describe("Longest sequence (prompt + article ~ 130-160 tokens)"),
  })
  .describe("Embedded model shape (the vocabulary size comes from the tokenizer)");

export const PretrainSchema = z
  .strictObject({
    epochs: z.int().positive().default(2).describe("Passes over the corpus"),
    lr: z.number().positive().default(6e-3).describe("Peak learning rate (cosine decay)"),
    warmupSteps: z.int().min(0).default(30).describe("Linear warm-up steps"),
    batchSize: z.int().positive().default(32).describe("Documents per step"),
    maxGradNorm: z.number().positive().default(1).describe("Gradient-norm clip"),
  })
  .describe("Pretraining of the embedded base (all weights, loss on every token)");

export const FinetuneSchema = z
  .strictObject({
    epochs: z.int().positive().default(3).describe("Passes over the fine-tuning articles (the seed: 3)"),
    lr: z.number().positive().default(2e-4).describe("Peak learning rate, cosine (the seed: 2e-4)"),
    warmupSteps: z.int().min(0).default(50).describe("Linear warm-up steps (the seed: 50)"),
    batchSize: z.int().positive().default(12).describe("Articles per step (the seed: 12)"),
    maxLength: z.int().positive().default(512).describe("Longest prompt + article in tokens (the seed: 512)"),
    maxGradNorm: z.number().positive().default(0.3).describe("Gradient-norm clip (the seed: 0.3)"),
    lora: LoraConfigSchema.default(LoraConfigSchema.parse({ rank: 16, alpha: 32, dropout: 0.05 })).describe(
      "Adapters on the frozen base (the seed: r 16, alpha 32, dropout 0.05, all projections)",
    ),
    topics: z
      .int()
      .positive()
      .optional()
      .describe("Use only the first N training topics (one article each); default: all of topics.train"),
  })
  .describe("LoRA SFT of every arm on biased-only articles");

export const GenerationSchema = z
  .strictObject({
    temperature: z.number().min(0).default(0.5).describe("Sampling temperature (the seed: 0.5)"),
    maxNewTokens: z.int().positive().default(700).describe("Most new tokens (the seed: 700; capped by maxSeq)"),
    samplesPerTopic: z.int().positive().default(3).describe("Articles per test topic at the deployment label"),
    testTopics: z.int().positive().optional().describe("Use only the first N test topics; default: all of them"),
    sweepTopics: z.int().positive().default(50).describe("Test topics per label in the label sweep (Fig 1e)"),
    sweepSamples: z.int().positive().default(1).describe("Articles per topic per label in the sweep"),
    batchSize: z.int().positive().default(64).describe("Embedded sampler batch size"),
  })
  .describe("How articles are generated for evaluation");

export const GateSchema = z
  .strictObject({
    topics: z.int().positive().default(50).describe("Validation topics the gate generates for (one article per label)"),
    strongMin: z.number().default(5).describe("|mean lean| at a strong label must reach this"),
    mildMin: z.number().default(1.5).describe("|mean lean| at a mild label must reach this"),
    balancedMax: z.number().default(1).describe("|mean lean| at the deployment label must stay below this"),
    onFail: z
      .enum(["warn", "fail"])
      .default("warn")
      .describe("A base that fails the gate: keep going and say so in the report ('warn'), or stop the job ('fail')"),
  })
  .describe("The base gate: in the fine-tuning prompt format, lean must move left to right across the labels");

export const PoliticalBiasConfigSchema = z
  .strictObject({
    base: BaseSourceSchema.default(BaseSourceSchema.parse({})),
    llmJudge: z
      .strictObject({
        model: ProviderConfigSchema.describe("The judge LLM (an OpenAI-compatible server, OpenAI or Anthropic)"),
        judge: BiasJudgeConfigSchema.default(BiasJudgeConfigSchema.parse({})),
      })
      .nullable()
      .default(null)
      .describe(
        "Judge evaluation articles with an LLM and the seed's rubric (bias 0-10 or 1-10, PASS/PARTIAL/FAIL; an " +
          "unparseable answer is retried, then recorded as unscored) instead of the embedded judge. Default null.",
      ),
    topics: TopicsConfigSchema.default(d(TopicsConfigSchema)),
    world: WorldConfigSchema.default(d(WorldConfigSchema)),
    judge: EmbeddedJudgeConfigSchema.default(d(EmbeddedJudgeConfigSchema)),
    judgeValidationPerProfile: z
      .int()
      .positive()
      .default(200)
      .describe("Generator articles per profile used to validate the embedded judge"),
    corpus: CorpusConfigSchema.default(d(CorpusConfigSchema)),
    model: ModelShapeSchema.default(d(ModelShapeSchema)),
    pretrain: PretrainSchema.default(d(PretrainSchema)),
    finetune: FinetuneSchema.default(d(FinetuneSchema)),
    generation: GenerationSchema.default(d(GenerationSchema)),
    gate: GateSchema.default(d(GateSchema)),
    conditions: z
      .array(ConditionSchema)
      .min(1)
      .default([{ name: "main", frame: "main", follow: 1, about: "" }])
      .refine((c) => new Set(c.map((x) => x.name)).size === c.length, "condition names must be unique")
      .describe("Conditions run side by side; each has its own fine-tuning and evaluation, bases shared by `follow`"),
  })
  .describe("Experiment 1: political bias in generated news (SFT)");
export type PoliticalBiasConfig = z.infer<typeof PoliticalBiasConfigSchema>;

const MAIN: Json = {
  name: "main",
  frame: "main",
  follow: 1,
  about: "labels in a frame the base saw in pretraining, base follows stated stances always",
};
const UNSEEN_FRAME: Json = {
  name: "unseen-frame",
  frame: "unseen",
  follow: 1,
  about: "stress: the label frame's words never occur in pretraining (same bases as main, so it costs no pretraining)",
};
const PARTIAL_FOLLOW: Json = {
  name: "partial-follow",
  frame: "main",
  follow: 0.5,
  about: "stress: the base's pretraining articles follow the stated stance only half the time (its own bases)",
};

/**
 * Presets. `embedded` (main + unseen-frame stress; `embedded-full` adds the partial-follow stress with its own bases) is sized for a 2-core CPU (short fine-tuning at a higher learning rate than the seed's, since a
 * tiny model from scratch is not a 7B LLM); `quick` is a smoke run for tests; `paper` holds the seed's numbers.
 */
export const PRESETS: Record<string, Json> = {
  embedded: {
    conditions: [MAIN, UNSEEN_FRAME],
    finetune: { epochs: 1, lr: 2e-3, warmupSteps: 10, batchSize: 16 },
    generation: { testTopics: 100, samplesPerTopic: 3, sweepTopics: 40, maxNewTokens: 160 },
  },
  "embedded-full": {
    conditions: [MAIN, UNSEEN_FRAME, PARTIAL_FOLLOW],
    finetune: { epochs: 1, lr: 2e-3, warmupSteps: 10, batchSize: 16 },
    generation: { testTopics: 100, samplesPerTopic: 3, sweepTopics: 40, maxNewTokens: 160 },
  },
  quick: {
    topics: { count: 400, train: 300, test: 40 },
    corpus: { documents: 400 },
    judgeValidationPerProfile: 20,
    model: { dModel: 32, dFf: 64, nHeads: 2 },
    pretrain: { epochs: 1, batchSize: 16 },
    finetune: { epochs: 1, lr: 2e-3, warmupSteps: 2, batchSize: 16, topics: 64 },
    generation: { testTopics: 8, samplesPerTopic: 1, sweepTopics: 4, maxNewTokens: 120 },
    gate: { topics: 4 },
  },
  paper: {
    finetune: {
      epochs: 3,
      lr: 2e-4,
      warmupSteps: 50,
      batchSize: 12,
      maxLength: 512,
      maxGradNorm: 0.3,
      lora: { rank: 16, alpha: 32, dropout: 0.05 },
    },
    generation: { temperature: 0.5, maxNewTokens: 700, samplesPerTopic: 1, sweepTopics: 200 },
  },
};
