/**
 * The task contract: what the runner (src/run) needs from a task (src/tasks/<name>/ or a plug-in module). A task turns its config into a
 * plan of jobs (build data, pretrain a base, train an arm, evaluate...), runs one job at a time when asked, and
 * summarises finished jobs into `TaskResults`, which the report renders without knowing the task.
 *
 * Why jobs: the runner can then run independent jobs in parallel worker processes, skip jobs whose result exists
 * (resume after kill -9), and share a base model between arms, without any task-specific code in src/run.
 */
import type { z } from "zod";
import type { Json } from "../data/sample.js";
import type { GemmKind } from "../engine/gemm/index.js";
import type { ExperimentDefinition } from "./experiment.js";

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

export type * from "./results.js";
import type { TaskResults } from "./results.js";

/** Where a spec's config came from, for `Task.prepareConfig`. */
export interface ConfigContext {
  /** Folder relative paths in the config resolve from (the spec file's folder, else the working directory). */
  dir: string;
  /** The spec file, or null when there is none. */
  file: string | null;
  /** Throws the run layer's spec error at a config key: it names the spec file, the key's line and the key. */
  fail(path: readonly PropertyKey[], message: string): never;
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
  /**
   * Optional: the matrix-product backend the run's workers use unless env MST_GEMM says otherwise
   * (src/engine/gemm/index.ts). Default "exact": the same numbers on every machine and thread count (the native
   * kernel, else WebAssembly); "auto" takes a system BLAS when there is one (other bits per CPU).
   */
  gemm?(config: C): GemmKind;
  /**
   * Optional: checks a parsed config against the world before the run starts (files present, samples valid) and
   * returns it with relative paths made absolute (from `ctx.dir`); problems go through `ctx.fail` at their config key.
   * The returned config is what the run stores and every job gets.
   */
  prepareConfig?(config: C, ctx: ConfigContext): C;
  /** Turns all job results into what the report shows. `results` is keyed by job id. */
  summarize(config: C, input: PlanInput, jobs: JobSpec[], results: Record<string, Json>, preset: string): TaskResults;
  /** The experiment-kit definition the task was built from (set by `defineExperiment`; `mst export` reads it). */
  experiment?: ExperimentDefinition<C>;
  /**
   * Optional: the definition for one config, for a task whose definition depends on it (custom: the trainer kind
   * and the metrics come from the spec). Read through `experimentOf`, never directly.
   */
  experimentFor?(config: C): ExperimentDefinition<C>;
}
