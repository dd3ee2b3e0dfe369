/**
 * The experiment kit as the package's public API for tasks (`import { defineExperiment } from "monitor-sensitive-training/experiment"`):
 * `defineExperiment` and the contract a task fills in, the Task contract the runner loads (built-in or plug-in), and
 * the kit's shipped building blocks (pretraining recipe, prompt format, corpus helpers, stock scorers), and the
 * building blocks a task's domain uses from the layers below (samples, monitors, judges and metrics, the embedded
 * engine's model, tokenizers and trainers). Everything else of every layer is exported by the package root ("monitor-sensitive-training").
 */

// the zod the kit validates with: a plug-in's config schema needs no zod of its own
export { z } from "zod";

// the kit: a task's domain in, a runnable Task out
export { defineExperiment, JobSchemaError } from "./define.js";
export type * from "./experiment.js";
export type * from "./task.js";
export type { SummaryView } from "./summary-view.js";
export { chatFormat, makeRuntime, loadRuntime, type ModelRuntime } from "./runtime.js";
export { parseSeedFigures, SeedFigureSchema, type SeedFigure } from "./seed-figures.js";
export * from "./jobs.js";
export { trainedArmOf } from "./plan.js";
export { armSamples, batchIndices } from "./train-job.js";
export { trainerIssues, trainerOf, type TrainerIssue } from "./check-trainer.js";
export { BaseJobError } from "./base-job.js";
export { loadBaseCheckpoint, BaseCheckpointError } from "./checkpoint-base.js";
export { TaskDefinitionError } from "./check-definition.js";

// the kit's building blocks (each file's comment has an example): the pretraining recipe and the plain prompt format,
// the corpus helpers (label values, comparisons, label-shaped lines, stance statements, gate checks), the stock
// scorers (exact match, a module's function, an LLM judge) as rewards and judges
export { pretrainOnCorpus, plainFormat, turnsText, type CorpusText, type PretrainOnCorpusOptions } from "./pretrain.js";
export * from "./corpus/index.js";
export * from "./scorers/index.js";

// data: samples, seeded randomness, the TextModel contract
export * from "../data/sample.js";
export type * from "../data/text-model.js";
export { Rng, hashString } from "../data/rng.js";

// monitors: label encodings, held-out values, deployment labels, prompts with labels, arms
export * from "../monitor/monitor.js";
export * from "../monitor/encoding.js";
export { renderPrompt, type RenderPromptOptions } from "../monitor/render-prompt.js";
export { ARM_NAMES, ARM_RULES, type ArmName } from "../monitor/arms-spec.js";
export type { ArmSample } from "../monitor/arm-sample.js";

// evaluation: the Judge and Metric contracts, metric factories, statistics
export * from "../eval/judge.js";
export * from "../eval/metric.js";
export * from "../eval/stats.js";

// the embedded engine and trainers a pretraining recipe uses
export { createModel, LlamaModel, type CreateModelOptions } from "../engine/model.js";
export * from "../engine/config.js";
export { Tokenizer } from "../engine/tokenizer.js";
export * from "../engine/tokenizer-build.js";
export { saveCheckpoint, loadCheckpoint } from "../engine/checkpoint.js";
export { nextTokenLogprobs } from "../engine/sampler.js";
export { trainSft, type SftOptions, type SftResult } from "../train/sft.js";
export type { SftExample } from "../train/sft-batches.js";
export * from "../train/sft-config.js";
export * from "../train/ppo-config.js";
export * from "../train/grpo-config.js";
