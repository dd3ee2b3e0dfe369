/**
 * The task contract: what the runner (src/run) needs from a task (src/tasks/<name>/). A task turns its config into a
 * plan of jobs (build data, pretrain a base, train an arm, evaluate...), runs one job at a time when asked, and
 * summarises finished jobs into `TaskResults`, which the report renders without knowing the task.
 *
 * Why jobs: the runner can then run independent jobs in parallel worker processes, skip jobs whose result exists
 * (resume after kill -9), and share a base model between arms, without any task-specific code in src/run.
 */
import type { z } from "zod";
import type { Json } from "../data/sample.js";

/** One unit of work. `params` must be JSON (it crosses to a worker process) and fully determine the result. */
export interface JobSpec {
  /** Unique, filesystem-safe id, e.g. "base-s0", "train-mst-b0-s1", "eval-mst-b0-s1". */
  id: string;
  /** Task-defined kind, e.g. "base", "train", "eval". */
  kind: string;
  /** Ids of jobs that must finish first; their results are passed in `JobContext.deps`. */
  deps: string[];
  /** Task-defined parameters (arm, seeds, ...). */
  params: { [key: string]: Json };
  /** Human label for progress bars, e.g. "train mst b0 s1". */
  title: string;
  /** Relative cost, used only to order the queue and estimate ETA. Default 1. */
  cost?: number;
}

/** Progress of the current job's current phase (e.g. "train" 120/400), shown as a bar with ETA by the runner. */
export type ProgressFn = (phase: string, done: number, total: number) => void;

/** What a job gets from the runner. */
export interface JobContext<C> {
  /** The resolved task config (preset + overrides, parsed by `configSchema`). */
  config: C;
  /** Absolute path of the run directory. */
  runDir: string;
  /** Absolute path of this job's own directory (`<runDir>/jobs/<id>`), created and empty-or-partial on entry. */
  jobDir: string;
  /** Directory of another job (a dependency), e.g. to load its checkpoint. */
  jobDirOf(id: string): string;
  /** Results of the dependencies, by job id. */
  deps: Record<string, Json>;
  /** Report progress; cheap to call often (the runner throttles). */
  progress: ProgressFn;
  /** Log a line to the run's log (not to the terminal). */
  log(line: string): void;
  /** BLAS threads this worker was given (the runner sets it before the engine loads). */
  threads: number;
}

/** The arms and seeds the spec asks for, passed to `plan`. */
export interface PlanInput {
  arms: string[];
  /** Fine-tuning (RL / SFT) seeds. */
  seeds: number[];
  /** Base-model seeds (each base is pretrained once and shared by every arm and seed). */
  baseSeeds: number[];
}

/** A number with its 95% confidence interval over seeds (or bootstrap), as the report draws it (see src/eval/stats.ts). */
export type { Estimate } from "../eval/stats.js";
import type { Estimate } from "../eval/stats.js";

/** Bars with CI whiskers: one metric, one value per arm (optionally per group, e.g. a condition). */
export interface BarChart {
  id: string;
  title: string;
  metric: string;
  /** Axis label, e.g. "sycophancy (share of wrong candidates called correct)". */
  yLabel: string;
  lowerIsBetter?: boolean;
  bars: Array<{ arm: string; group?: string } & Estimate>;
}

/** Lines over a label sweep (Fig 2c / Fig 1e): x is the label's numeric position or an index into `xLabels`. */
export interface SweepChart {
  id: string;
  title: string;
  metric: string;
  xLabel: string;
  yLabel: string;
  /** Optional names for x positions (categorical sweeps). */
  xLabels?: string[];
  points: Array<{ arm: string; x: number } & Estimate>;
}

/** Training curves: read by the report from each train job's metrics JSONL; the task names which files and fields. */
export interface CurveSource {
  arm: string;
  seed: string;
  /** Path relative to the run directory of a metrics JSONL with one object per step (a `step` field). */
  file: string;
  /** Fields to plot, e.g. ["loss"] or ["reward_mean", "entropy"]. */
  fields: string[];
}

export interface SampleRow {
  arm: string;
  seed: string;
  label: string;
  prompt: string;
  output: string;
  /** Judge / reward values shown as columns. */
  values: Record<string, number | string | null>;
}

/** A row of the "ours vs the seed" section: stated plainly, whatever we measured. */
export interface SeedComparisonRow {
  quantity: string;
  seed: string;
  ours: string;
  /** One sentence: agrees / differs / not comparable, and why. */
  verdict: string;
}

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

/** Everything the report shows, produced by `Task.summarize`. Written to results.json (so it must be JSON). */
export interface TaskResults {
  task: string;
  preset: string;
  /** A few numbers for `mst runs`, e.g. { "sycophancy@0% mst": 0.12 }. */
  headline: Record<string, number>;
  /** Plain-language findings, shown first in the report (what happened, including failures). */
  findings: string[];
  bars: BarChart[];
  sweeps: SweepChart[];
  curves: CurveSource[];
  samples: SampleRow[];
  seedComparison: SeedComparisonRow[];
  tables: Table[];
}

/** A task: config + presets, a job plan, a job runner, and a summary. */
export interface Task<C = unknown> {
  /** Registry name used on the command line, e.g. "sycophancy". */
  name: string;
  title: string;
  /** A paragraph for `mst run --help` and the report header. */
  description: string;
  /**
   * Strict zod schema of the full task config, every field documented with its default. A task that supports the
   * spec's `deployment:` and `sweep:` declares top-level keys `deploymentLabel` and `sweepLabels` (src/run/spec.ts
   * DEPLOYMENT_KEY / SWEEP_KEY); the runner passes them in through those keys.
   */
  configSchema: z.ZodType<C>;
  /** Named partial configs (deep-merged over schema defaults, then overrides on top). Must include "embedded". */
  presets: Record<string, Json>;
  defaultPreset: string;
  /** Arms this task supports and the default selection. */
  arms: { supported: string[]; default: string[] };
  /** Default seeds when the spec gives none. */
  defaultSeeds: { seeds: number[]; baseSeeds: number[] };
  /** The job graph for these arms and seeds. Must be deterministic. */
  plan(config: C, input: PlanInput): JobSpec[];
  /** Runs one job; returns a JSON result the runner stores as `<jobDir>/result.json` (written last, atomically). */
  runJob(job: JobSpec, ctx: JobContext<C>): Promise<Json>;
  /**
   * Optional: the schema a job's result must match (by `job.kind`), or undefined for none. The worker refuses to
   * write a result that fails it, and the runner re-runs a finished job whose result.json fails it (on --resume)
   * and names the job and file if one is damaged when results are read.
   */
  resultSchema?(job: JobSpec): z.ZodType | undefined;
  /** Turns all job results into what the report shows. `results` is keyed by job id. */
  summarize(config: C, input: PlanInput, jobs: JobSpec[], results: Record<string, Json>, preset: string): TaskResults;
}
