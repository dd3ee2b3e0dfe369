/** What every export target provides: its row formats (training and evaluation) and its launch recipe. */
import { trainerOf } from "../../experiment/check-trainer.js";
import { baseJobId } from "../../experiment/jobs.js";
import { PpoConfigSchema, type PpoConfig } from "../../train/ppo-config.js";
import { SftConfigSchema, type SftConfig } from "../../train/sft-config.js";
import type { EvalSetData, TrainJobData } from "../export-data.js";
import type { LoadedExperiment } from "../load-experiment.js";
import type { Recipe } from "../recipe.js";

export const TARGETS = ["trl", "openrlhf", "verl", "openai"] as const;
export type TargetName = (typeof TARGETS)[number];

export interface ExportContext {
  x: LoadedExperiment;
  /** The task's pure reward table in Python, or null (rewards then come from `mst serve-reward`). */
  table: string | null;
  /** The reward server URL the recipes use. */
  rewardUrl: string;
}

/** A training or evaluation file: JSONL lines or parquet rows with their columns. */
export type DataFile =
  | { kind: "jsonl"; path: string; rows: unknown[] }
  | {
      kind: "parquet";
      path: string;
      columns: Record<string, import("../parquet.js").PqType>;
      rows: Record<string, unknown>[];
    };

export interface ExportTarget {
  name: TargetName;
  /** The training file of one job (path relative to the job directory). */
  trainFile(job: TrainJobData, ctx: ExportContext): DataFile;
  /** An evaluation set (path relative to the target's eval/ directory). */
  evalFile(set: EvalSetData, ctx: ExportContext): DataFile;
  recipe(jobs: TrainJobData[], ctx: ExportContext): Recipe;
}

/** The base model a job trains from: the spec's checkpoint, or the embedded base a local `mst run` saved (under $MST_BASES). */
export function modelPathOf(job: TrainJobData, ctx: ExportContext): string {
  const ckpt = ctx.x.def.base.checkpoint?.(ctx.x.config) ?? null;
  return ckpt ?? `$MST_BASES/jobs/${baseJobId(job.condition.base, job.base)}/model`;
}

export const ppoOf = (ctx: ExportContext): PpoConfig => {
  if (ctx.x.def.train.kind !== "rl") throw new Error("not an RL task");
  // a target that maps PPO only must not export PPO settings the run never uses
  if (trainerOf(ctx.x.def, ctx.x.config) === "grpo")
    throw new Error(`${ctx.x.def.name} trains with GRPO (trainer: grpo); this target maps PPO only: use --target trl`);
  return PpoConfigSchema.parse(ctx.x.def.train.ppo(ctx.x.config));
};
export const sftOf = (ctx: ExportContext): SftConfig => {
  if (ctx.x.def.train.kind !== "sft") throw new Error("not an SFT task");
  return SftConfigSchema.parse(ctx.x.def.train.sft(ctx.x.config));
};

/** The file name of an evaluation set: <condition>/<key> with "sweep:3" as "sweep-3". */
export const evalName = (s: EvalSetData, ext: string): string => `${s.condition}/${s.key.replace(":", "-")}.${ext}`;

/** Optimizer steps mst's PPO takes in total (per PPO step: epochs x batch / (mini-batch x accumulation)). */
export function ppoOptimizerSteps(p: PpoConfig): number {
  return p.steps * p.ppoEpochs * Math.max(1, Math.floor(p.batchSize / (p.miniBatchSize * p.gradAccum)));
}

/** SFT optimizer steps for n samples. */
export function sftOptimizerSteps(s: SftConfig, n: number): number {
  return s.maxSteps ?? s.epochs * Math.ceil(n / (s.batchSize * s.gradAccum));
}
