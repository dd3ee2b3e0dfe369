/**
 * The kit's typed jobs: the ids, params and results of every job kind, as zod schemas. The worker checks a result
 * against its schema before writing result.json, and the summary checks it again when reading (a result.json that
 * was edited or truncated names its job and file instead of failing somewhere downstream).
 */
import { z } from "zod";
import { ARM_NAMES } from "../monitor/arms-spec.js";

export const JOB_KINDS = ["base", "train", "eval", "eval-base"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The arm a job evaluates or trains; "base" is the out-of-the-box model. */
const ArmSchema = z.enum(ARM_NAMES);

export const BaseParamsSchema = z.strictObject({
  group: z.string().describe("Base group key (conditions with this key share the base)"),
  base: z.int().describe("Base seed"),
});
export const TrainParamsSchema = z.strictObject({
  condition: z.string(),
  arm: ArmSchema.describe("The arm whose training data this job trains on"),
  base: z.int(),
  seed: z.int(),
});
export const EvalParamsSchema = z.strictObject({
  condition: z.string(),
  arm: ArmSchema,
  base: z.int(),
  seed: z.int(),
});
export const EvalBaseParamsSchema = z.strictObject({ condition: z.string(), base: z.int() });

export type BaseParams = z.infer<typeof BaseParamsSchema>;
export type TrainParams = z.infer<typeof TrainParamsSchema>;
export type EvalParams = z.infer<typeof EvalParamsSchema>;
export type EvalBaseParams = z.infer<typeof EvalBaseParamsSchema>;

const Num = z.number().nullable();

export const GateReportSchema = z.strictObject({
  pass: z.boolean(),
  reasons: z.array(z.string()),
  values: z.record(z.string(), Num),
  rank: z.number().optional(),
});

export const BaseResultSchema = z.strictObject({
  group: z.string(),
  base: z.int(),
  source: z.union([
    z.strictObject({ kind: z.literal("pretrained") }),
    z.strictObject({ kind: z.literal("checkpoint"), path: z.string() }),
  ]),
  vocabSize: z.int(),
  parameters: z.int(),
  /** Facts from pretraining (corpus size, steps, loss...). */
  info: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
  gate: GateReportSchema.nullable(),
  attempts: z.array(z.strictObject({ seed: z.int(), gate: GateReportSchema.nullable(), kept: z.boolean() })),
  examplePrompt: z.string().describe("A deployment-label evaluation prompt as the model reads it"),
});
export type BaseResult = z.infer<typeof BaseResultSchema>;

export const TrainResultSchema = z.strictObject({
  condition: z.string(),
  arm: ArmSchema,
  base: z.int(),
  seed: z.int(),
  kind: z.enum(["sft", "rl"]),
  samples: z.int(),
  /** Samples whose shown label equals their true label (all for mst, about 1/k for shuffled, 0 unlabelled). */
  labelMatchesTrue: z.int(),
  steps: z.int(),
  /** SFT: last training loss; RL: mean reward over the last 10% of steps. */
  final: Num,
  /** Metrics JSONL relative to the run directory (training curves). */
  metricsFile: z.string(),
});
export type TrainResult = z.infer<typeof TrainResultSchema>;

export const MetricValueSchema = z.strictObject({
  name: z.string(),
  mean: z.number().nullable(),
  lo: z.number().nullable(),
  hi: z.number().nullable(),
  n: z.int(),
  unscored: z.int(),
  method: z.string().optional(),
  values: z.array(z.number()).optional(),
});

export const LabelEvalSchema = z.strictObject({
  /** "none", "deployment" or "sweep:<i>". */
  key: z.string(),
  label: z.string().nullable(),
  /** Position on the sweep axis (null off the sweep). */
  x: z.number().nullable(),
  n: z.int(),
  unscored: z.int(),
  metrics: z.record(z.string(), MetricValueSchema),
});
export type LabelEval = z.infer<typeof LabelEvalSchema>;

export const SampleRowSchema = z.strictObject({
  label: z.string(),
  prompt: z.string(),
  output: z.string(),
  values: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
});

export const EvalResultSchema = z.strictObject({
  condition: z.string(),
  arm: z.string().describe("An arm name, or 'base' for the out-of-the-box model"),
  base: z.int(),
  seed: z.int().nullable(),
  /** Key of the arm's main label ("none" for arms evaluated without a label, else "deployment"). */
  main: z.string(),
  labels: z.array(LabelEvalSchema),
  /** Judge score per evaluation sample id at the main label (mean over its completions; null: none scored). */
  perItem: z.record(z.string(), Num),
  samples: z.array(SampleRowSchema),
});
export type EvalResult = z.infer<typeof EvalResultSchema>;

/** Result schema of each job kind (the runner validates result.json against it when writing and reading). */
export const RESULT_SCHEMAS: Record<JobKind, z.ZodType> = {
  base: BaseResultSchema,
  train: TrainResultSchema,
  eval: EvalResultSchema,
  "eval-base": EvalResultSchema,
};

export const baseJobId = (group: string, b: number): string =>
  group === "main" ? `base-b${b}` : `base-${group}-b${b}`;
const cond = (c: string): string => (c === "main" ? "" : `${c}-`);
export const trainJobId = (c: string, arm: string, b: number, s: number): string =>
  `train-${cond(c)}${arm}-b${b}-s${s}`;
export const evalJobId = (c: string, arm: string, b: number, s: number): string => `eval-${cond(c)}${arm}-b${b}-s${s}`;
export const evalBaseJobId = (c: string, b: number): string => `eval-${cond(c)}base-b${b}`;

/** Directory names inside job directories. */
export const BASE_MODEL_DIR = "model";
export const ADAPTER_DIR = "adapter";
