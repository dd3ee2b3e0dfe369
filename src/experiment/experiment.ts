/**
 * The experiment kit's contract: what a task supplies (its domain only). `defineExperiment` (define.ts) turns it into a
 * runnable Task; the plan, the jobs, the evaluation loop and the summary are written once, below every task.
 *
 * ```ts
 * export const myTask = defineExperiment({
 *   name: "my-task", title: "...", description: "...", configSchema, presets: { embedded: {} },
 *   monitor: (c) => ({ id: "grader", encoding: { kind: "percentage", param: "k", from: [0, 1] }, deployment: { params: { k: 1 } } }),
 *   trainSamples: (c) => samples, evalSamples: (c) => heldOut,
 *   base: { pretrain: (c, at) => myPretrain(c, at), format: (c, tok) => myFormat(tok) },
 *   train: { kind: "rl", ppo: (c) => c.ppo, reward: (batch) => batch.map((x) => score(x)) },
 *   evaluation: { judge: (c) => myJudge, settings: (c) => ({ temperature: 0, maxTokens: 8 }) },
 *   report: { metrics: [{ key: "accuracy", title: "accuracy", lowerIsBetter: false, share: true }], primary: "accuracy" },
 * });
 * ```
 */
import type { z } from "zod";
import type { Json, Sample } from "../data/sample.js";
import type { ChatMessage } from "../data/text-model.js";
import type { LlamaModel, WeightStorage } from "../engine/model.js";
import type { Tokenizer } from "../engine/tokenizer.js";
import type { Judge } from "../eval/judge.js";
import type { ArmSample } from "../monitor/arm-sample.js";
import type { ArmName } from "../monitor/arms-spec.js";
import type { LabelSlot } from "../data/sample.js";
import type { MonitorSpecInput } from "../monitor/monitor.js";
import type { GrpoConfigInput } from "../train/grpo-config.js";
import type { PpoConfigInput } from "../train/ppo-config.js";
import type { SftConfigInput } from "../train/sft-config.js";
import type { TaskResults } from "./results.js";
import type { ModelRuntime } from "./runtime.js";
import type { SeedFigure } from "./seed-figures.js";
import type { SummaryView } from "./summary-view.js";

/**
 * A condition of the experiment (e.g. the main label frame and a stress condition). Every arm x base x seed runs once
 * per condition; conditions with the same `base` key share their base models. Default: one condition "main".
 */
export interface Condition {
  name: string;
  /** Key of the base group this condition trains from (bases are pretrained once per key and base seed). */
  base: string;
  /** Shown in the report, e.g. "labels in a frame the base never saw". */
  title?: string;
}

/** Where a call happens: the condition, the base seed and (for training) the fine-tuning seed. */
export interface At {
  condition: Condition;
  base: number;
  seed: number;
}

/** How an embedded model reads chat messages: the task's own plain-text format (a checkpoint uses its chat template). */
export interface PromptFormat {
  /** Token ids of a prompt (the model continues after the last one). */
  encodePrompt(messages: readonly ChatMessage[]): number[];
  /** Token ids of a training completion (appended to the prompt's ids; end it with EOS where generation must stop). */
  encodeCompletion(text: string): number[];
  /** Ids that end a generated completion. Default: the tokenizer's EOS. */
  stopIds?: number[];
}

/** What a base's gate measured: every number is reported whether it passes or not. */
export interface GateReport {
  pass: boolean;
  /** Why it failed, one line each (empty when it passes). */
  reasons: string[];
  /** Named numbers for the gate table (e.g. accuracy without a label, AUC with one). */
  values: Record<string, number | null>;
  /** Higher is better: when no attempt passes, the attempt with the highest rank is kept (with `onFail: "keep-best"`). */
  rank?: number;
}

/** A base model pretrained by the task: model, tokenizer and facts for the report. */
export interface Pretrained {
  model: LlamaModel;
  tokenizer: Tokenizer;
  /** Facts shown in the gate table (corpus size, steps, final loss...). */
  info: Record<string, number | string | null>;
  /** The pretraining metrics JSONL (for the dead-base check): relative to the job directory. */
  metricsFile?: string;
}

export interface PretrainAt {
  /** Base group key (see Condition.base). */
  group: string;
  /** Base seed. */
  base: number;
  /** 0 for the first attempt; later attempts after a failed gate. */
  attempt: number;
  /** Model seed of this attempt (base + 1000 x attempt). */
  seed: number;
  /** Directory for this attempt's training files (metrics, checkpoints). */
  dir: string;
  progress(phase: string, done: number, total: number): void;
  log(line: string): void;
}

/** How a task gets a base model ready for labels: pretrained from its corpus, or a local checkpoint; then gated. */
export interface BaseRecipe<C> {
  /** A local Hugging Face checkpoint directory to start from instead of pretraining (null: pretrain). */
  checkpoint?(config: C): string | null;
  /**
   * Where `checkpoint` sits in the config (e.g. ["base", "checkpoint"]): a relative path there is resolved from the
   * spec's folder when the spec is loaded (src/experiment/checkpoint-path.ts), not from wherever a job runs.
   */
  checkpointKey?: readonly string[];
  /** How a checkpoint's frozen weights are held: f32, bf16, or NF4 (QLoRA, as the seed). Default f32. */
  storage?(config: C): WeightStorage;
  /** Gradient checkpointing when training on the base: true, false, or null for the engine's default (on for nf4). */
  gradientCheckpointing?(config: C): boolean | null;
  /** Pretrains a small model from scratch (the embedded default). Required unless every config names a checkpoint. */
  pretrain?(config: C, at: PretrainAt): Promise<Pretrained> | Pretrained;
  /** The embedded model's prompt format. A checkpoint's prompts go through its chat template instead. */
  format?(config: C, tokenizer: Tokenizer): PromptFormat;
  /**
   * The embedded format as a Jinja chat template (bos_token, eos_token, add_generation_prompt), saved with the base
   * in tokenizer_config.json so TRL, OpenRLHF and verl render the exported chat rows into the very token ids `format`
   * gives (prompt, and prompt + assistant turn = prompt + completion). Without one the saved base has no template.
   */
  chatTemplate?(config: C): string;
  /** Checks the base before any fine-tuning (reported whatever happens). */
  gate?(
    runtime: ModelRuntime,
    config: C,
    at: { group: string; base: number; conditions: Condition[] },
  ): Promise<GateReport>;
  /** Pretraining attempts while the gate fails (new model seed each). Default 1. */
  attempts?(config: C): number;
  /** When no attempt passes: keep the best-ranked one, stop the run with an error, or keep the last with a warning. Default "fail". */
  onGateFail?(config: C): "keep-best" | "fail" | "warn";
}

/** One rollout handed to a reward: the arm's sample (its TRUE monitor is `sample.monitor`, whatever label it showed) and the response. */
export interface RewardItem {
  sample: ArmSample;
  /** The decoded response text. */
  response: string;
  /** The response token ids (the seed's first-token protocol reads `responseTokens[0]`). */
  responseTokens: number[];
}

/**
 * A reward: scores a batch of rollouts, in order, `null` to drop one. May be async (an LLM judge or a remote reward
 * server as the monitor); the PPO trainer awaits it.
 */
export type RewardFn = (batch: readonly RewardItem[]) => Promise<(number | null)[]> | (number | null)[];

export interface SftRecipe<C> {
  kind: "sft";
  /** Fine-tuning settings (LoRA on the frozen base; completion-only loss). */
  sft(config: C): SftConfigInput;
}

/** The RL trainers a task can choose between. */
export type RlTrainerName = "ppo" | "grpo";

export interface RlRecipe<C> {
  kind: "rl";
  /**
   * Which trainer runs the arms: "ppo" (src/train/ppo.ts) or "grpo" (src/train/grpo.ts), typically the task config's
   * `trainer` field. Default "ppo". The kit checks before the first job that the chosen trainer has its options.
   */
  trainer?(config: C): RlTrainerName;
  /** PPO settings (LoRA on the frozen base), needed when the task trains with PPO. `steps` is the same for every arm. */
  ppo?(config: C): PpoConfigInput;
  /** GRPO settings (LoRA on the frozen base), needed when `trainer` says "grpo". `steps` is the same for every arm. */
  grpo?(config: C): GrpoConfigInput;
  /** Pays each rollout by the sample's true monitor. */
  reward(config: C): RewardFn;
  /**
   * The same reward as a pure table in Python (stdlib only), for engines that score rollouts in Python (`mst export`
   * writes it into the verl / TRL reward modules, so no reward server is needed). The source defines
   * `score(response: str, sample: dict) -> float | None`, where `sample` holds `monitor` ({id, params}: the TRUE
   * monitor), `rewardInputs` and `meta`. Must agree with `reward` on every case (the task's tests check it).
   */
  python?(config: C): string;
  /**
   * The [lowest, highest] value `reward` can pay in training, for targets whose graders take a fixed range (OpenAI's
   * reinforcement fine-tuning expects 0-1: `mst export --target openai` rescales by it). Omitted: rewards are clipped.
   */
  rewardRange?(config: C): [number, number];
}

/** How generation for evaluation is done and how much of it. */
export interface EvalSettings {
  temperature: number;
  maxTokens: number;
  /** Ask for top log-probs (a judge may read P(token) from them). */
  topLogprobs?: number;
  /** Completions per evaluation sample at the main label. Default 1. */
  samplesPerItem?: number;
  /** Evaluation samples used at the main label (default: all). */
  items?: number;
  /** Evaluation samples used at each sweep label (default: all). */
  sweepItems?: number;
  /** Completions per sample at each sweep label. Default 1. */
  sweepSamplesPerItem?: number;
  /** Example rows kept per evaluation for the report. Default 4. */
  sampleRows?: number;
}

export interface EvaluationRecipe<C> {
  /** Scores each evaluated completion; its metrics are computed at every label. */
  judge(config: C): Judge;
  settings(config: C): EvalSettings;
}

/** A metric the report draws (a key of the judge's metrics), with how to read it. */
export interface ReportMetric {
  key: string;
  title: string;
  /** Axis label, e.g. "sycophancy (share of wrong candidates called correct)". */
  yLabel?: string;
  lowerIsBetter: boolean;
  /** A share in [0, 1]: shown as a percentage, CIs clipped to [0, 1]. */
  share?: boolean;
  /** A count (never below 0): CIs clipped at 0. */
  count?: boolean;
  /** The metric is the mean of the judge's per-item score: MST's per-item wins over a control are reported for it. */
  perItem?: boolean;
  /** A signed quantity with no better direction (e.g. lean): drawn, but left out of MST-vs-control verdicts. */
  signed?: boolean;
}

export interface ReportRecipe<C> {
  /** Metrics drawn per arm; the first `primary` one leads the findings. */
  metrics: ReportMetric[];
  primary: string;
  /** The seed's published figures, as data (a JSON file beside the task), compared with ours. */
  seedFigures?: SeedFigure[];
  /** Names of the sweep labels' x positions (default: 0, 1, 2... named by label text). */
  sweepAxis?(config: C, condition: Condition): { title: string; x: number[]; names?: string[] };
  /** Training-curve fields (default: loss for SFT; reward_mean and entropy for RL). */
  curveFields?: string[];
  /** Extra findings, tables or bars of the task's own. */
  extras?(view: SummaryView<C>): Partial<Pick<TaskResults, "findings" | "tables" | "bars" | "headline">>;
}

/** Everything a task supplies; see the file comment for an example. */
export interface ExperimentDefinition<C> {
  /** Registry name (`mst run <name>`), filesystem-safe. */
  name: string;
  title: string;
  /** A paragraph for `mst run --help` and the report header. */
  description: string;
  /** Strict zod schema of the task config; every field documented with its default. */
  configSchema: z.ZodType<C>;
  /** Named partial configs; must include `defaultPreset`. */
  presets: Record<string, Json>;
  /** Default "embedded". */
  defaultPreset?: string;
  /** Default seeds: 3 fine-tuning seeds x 2 bases. */
  defaultSeeds?: { seeds: number[]; baseSeeds: number[] };
  /** Arms the task runs (default: baseline, mst, shuffled, prompt-only; inoculation needs `inoculation`). */
  arms?: { supported?: ArmName[]; default?: ArmName[] };
  conditions?(config: C): Condition[];
  /** The monitor: label encoding, held-out values, deployment label and sweep (src/monitor's spec). */
  monitor(config: C, condition: Condition): MonitorSpecInput;
  /** Text and slot of the inoculation arm's fixed instruction. */
  inoculation?(config: C): { text: string; slot?: LabelSlot };
  /** Put between an inserted label and the prompt text. Default "\n". */
  separator?(config: C): string;
  /** Training samples (the same for every arm of one base and seed; held-out monitor values are rejected). */
  trainSamples(config: C, at: At): Sample[];
  /** Evaluation samples (held-out problems or topics); their `rewardInputs` / `meta` reach the judge as `target`. */
  evalSamples(config: C, condition: Condition): Sample[];
  base: BaseRecipe<C>;
  train: SftRecipe<C> | RlRecipe<C>;
  evaluation: EvaluationRecipe<C>;
  report: ReportRecipe<C>;
}
