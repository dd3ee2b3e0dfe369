/** Experiment 1 as a task: political bias in generated news, fine-tuned with SFT in the baseline, MST and shuffled arms. */
import type { Json } from "../../data/sample.js";
import type { JobContext, JobSpec, Task } from "../../experiment/task.js";
import { PoliticalBiasConfigSchema, PRESETS, type PoliticalBiasConfig } from "./config.js";
import { job as judgeCheckJob } from "./job-judge-check.js";
import { runBaseJob } from "./job-base.js";
import { runEvalJob } from "./job-eval.js";
import { runSftJob } from "./job-sft.js";
import { planPoliticalBias, planProviderMode, SUPPORTED_ARMS } from "./plan.js";
import { runProviderArticles, runProviderEval, runProviderJudgeCheck, runProviderTopics } from "./job-provider.js";
import { PoliticalBiasJobError } from "./setup.js";
import { summarizePoliticalBias } from "./summarize.js";

type Handler = (job: JobSpec, ctx: JobContext<PoliticalBiasConfig>) => Promise<Json>;

/** One handler per job kind (the plan emits exactly these kinds). */
const HANDLERS: Record<
  "judge-check" | "base" | "sft" | "eval" | "p-topics" | "p-articles" | "p-judge-check" | "p-eval",
  Handler
> = {
  "judge-check": judgeCheckJob,
  base: runBaseJob,
  sft: runSftJob,
  eval: runEvalJob,
  "p-topics": runProviderTopics,
  "p-articles": runProviderArticles,
  "p-judge-check": runProviderJudgeCheck,
  "p-eval": runProviderEval,
};

export const politicalBiasTask: Task<PoliticalBiasConfig> = {
  name: "political-bias",
  title: "Experiment 1: political bias in generated news (SFT)",
  description:
    "Fine-tunes a model on articles written under four biased editorial profiles (never balanced ones) in three arms: " +
    "baseline (no label), MST (the article's true profile as an evaluator label in the system turn) and shuffled " +
    "(a random profile), plus the prompt-only control, then asks every arm for an unbiased article on unseen topics " +
    "under a label never seen in training: an unbiased evaluator. The embedded preset builds a synthetic news world, " +
    "pretrains small bases that know every lean and the prompt format, gates them, and runs a main condition beside " +
    "a stress condition (labels in a frame the base never saw; preset embedded-full adds bases that follow stated " +
    "stances only half the time); a judge scores bias 0-10, signed lean and PASS/PARTIAL/FAIL.",
  configSchema: PoliticalBiasConfigSchema,
  presets: PRESETS,
  defaultPreset: "embedded",
  arms: { supported: [...SUPPORTED_ARMS], default: [...SUPPORTED_ARMS] },
  defaultSeeds: { seeds: [0, 1], baseSeeds: [0, 1, 2] },
  plan: (config, input) =>
    config.mode === "provider" ? planProviderMode(config, input) : planPoliticalBias(config, input),
  runJob: (job, ctx) => {
    const h = HANDLERS[job.kind as keyof typeof HANDLERS];
    if (!h) throw new PoliticalBiasJobError(`political-bias: unknown job kind "${job.kind}" (job ${job.id})`);
    return h(job, ctx);
  },
  summarize: summarizePoliticalBias,
};
