/**
 * `defineExperiment`: a task's domain (experiment.ts) in, a runnable Task out. The plan, the typed jobs, the
 * evaluation loop and the summary come from the kit; a task writes none of them.
 */
import type { Json } from "../data/sample.js";
import { ARM_NAMES, type ArmName } from "../monitor/arms-spec.js";
import { conditionsOf, runBaseJob } from "./base-job.js";
import { runEvalBaseJob, runEvalJob } from "./eval-job.js";
import type { ExperimentDefinition } from "./experiment.js";
import type { z } from "zod";
import {
  BaseParamsSchema,
  EvalBaseParamsSchema,
  EvalParamsSchema,
  JOB_KINDS,
  RESULT_SCHEMAS,
  TrainParamsSchema,
  type JobKind,
} from "./jobs.js";
import { withAbsoluteCheckpoint } from "./checkpoint-path.js";
import { checkArms, planExperiment } from "./plan.js";
import { summarizeExperiment } from "./summary.js";
import type { ConfigContext, JobContext, JobSpec, Task } from "./task.js";
import { runTrainJob } from "./train-job.js";

/** Thrown when a job's params or result break its schema; names the job (and the file, when read from disk). */
export class JobSchemaError extends Error {
  override name = "JobSchemaError";
}

/** A job's params parsed by its kind's schema (params cross a process boundary as JSON). */
function paramsOf<S extends z.ZodType>(schema: S, job: JobSpec): z.infer<S> {
  const p = schema.safeParse(job.params);
  if (!p.success)
    throw new JobSchemaError(
      `job ${job.id}: params do not match the ${job.kind} schema: ${p.error.issues[0]?.message}`,
    );
  return p.data;
}

function kindOf(job: JobSpec): JobKind {
  if (!(JOB_KINDS as readonly string[]).includes(job.kind))
    throw new JobSchemaError(`job ${job.id}: unknown job kind "${job.kind}" (the kit runs ${JOB_KINDS.join(", ")})`);
  return job.kind as JobKind;
}

/** The arms a definition supports (inoculation only when the task gives its instruction). */
function supportedArms<C>(def: ExperimentDefinition<C>): ArmName[] {
  return def.arms?.supported ?? ARM_NAMES.filter((a) => a !== "inoculation" || def.inoculation !== undefined);
}

/** The definition behind each task made by defineExperiment (so `mst serve` and `mst eval` reach its domain). */
const DEFINITIONS = new WeakMap<object, ExperimentDefinition<unknown>>();

/** The experiment definition a task was made from, or undefined for a task not built on the kit (e.g. toy). */
export function definitionOf<C>(task: Task<C>): ExperimentDefinition<C> | undefined {
  return DEFINITIONS.get(task) as ExperimentDefinition<C> | undefined;
}

export function defineExperiment<C>(def: ExperimentDefinition<C>): Task<C> {
  const task = makeTask(def);
  DEFINITIONS.set(task, def as ExperimentDefinition<unknown>);
  return task;
}

function makeTask<C>(def: ExperimentDefinition<C>): Task<C> {
  const supported = supportedArms(def);
  const defaults =
    def.arms?.default ??
    (["baseline", "mst", "shuffled", "prompt-only"] as ArmName[]).filter((a) => supported.includes(a));
  return {
    name: def.name,
    title: def.title,
    description: def.description,
    configSchema: def.configSchema,
    presets: def.presets,
    defaultPreset: def.defaultPreset ?? "embedded",
    arms: { supported, default: defaults },
    defaultSeeds: def.defaultSeeds ?? { seeds: [0, 1, 2], baseSeeds: [0, 1] },
    plan(config, input) {
      const arms = checkArms(def.name, input.arms, supported);
      return planExperiment(arms, conditionsOf(def, config), input, { base: 6, train: 3, eval: 1 });
    },
    async runJob(job: JobSpec, ctx: JobContext<C>): Promise<Json> {
      const c = ctx.config;
      // the worker checks the result against resultSchema (below) before writing result.json
      const run: Record<JobKind, () => Promise<Json>> = {
        base: () => runBaseJob(def, c, job, paramsOf(BaseParamsSchema, job), ctx),
        train: () => runTrainJob(def, c, job, paramsOf(TrainParamsSchema, job), ctx),
        eval: () => runEvalJob(def, c, job, paramsOf(EvalParamsSchema, job), ctx),
        "eval-base": () => runEvalBaseJob(def, c, job, paramsOf(EvalBaseParamsSchema, job), ctx),
      };
      return run[kindOf(job)]();
    },
    resultSchema: (job) => RESULT_SCHEMAS[kindOf(job)],
    // embedded models: the WebAssembly kernel, so a run gives the same numbers on every machine (about 1.4x the CPU
    // time of OpenBLAS for a whole embedded run, bench:engine); real checkpoints: the fastest backend there is
    gemm: (config) => (def.base.checkpoint?.(config) ? "auto" : "wasm"),
    ...(def.base.checkpointKey !== undefined
      ? {
          prepareConfig: (config: C, ctx: ConfigContext) =>
            withAbsoluteCheckpoint(config, def.base.checkpointKey!, ctx),
        }
      : {}),
    summarize(config, input, jobs, results, preset) {
      const arms = checkArms(def.name, input.arms, supported);
      return summarizeExperiment(def, config, conditionsOf(def, config), arms, input, jobs, results, preset);
    },
    experiment: def,
  };
}
