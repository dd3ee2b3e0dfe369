/**
 * `defineExperiment`: a task's domain (experiment.ts) in, a runnable Task out. The plan, the typed jobs, the
 * evaluation loop and the summary come from the kit; a task writes none of them.
 */
import type { Json } from "../data/sample.js";
import { ARM_NAMES, type ArmName } from "../monitor/arms-spec.js";
import { conditionsOf, runBaseJob } from "./base-job.js";
import { checkDefinition, checkDefinitionShape } from "./check-definition.js";
import { trainerIssues } from "./check-trainer.js";
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
import type { JobContext, JobSpec, Task } from "./task.js";
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

/**
 * The experiment definition of a task for one config: the task's own per-config definition (custom), else the one it
 * was made from, or undefined for a task not built on the kit (e.g. toy). A property, not a registry keyed by object,
 * so a plug-in that imports its own copy of the kit resolves the same way.
 */
export function experimentOf<C>(task: Task<C>, config: C): ExperimentDefinition<C> | undefined {
  return task.experimentFor?.(config) ?? task.experiment;
}

/** @deprecated The config-independent definition only: use `experimentOf(task, config)` (kept for callers not yet moved). */
export function definitionOf<C>(task: Task<C>): ExperimentDefinition<C> | undefined {
  return task.experiment;
}

export function defineExperiment<C>(def: ExperimentDefinition<C>): Task<C> {
  // a template definition (the custom task's, completed per config) has no metrics yet: checked at plan time
  if (def.report.metrics.length > 0) checkDefinitionShape(def);
  return makeTask(def);
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
      // a wrong definition fails here, before the first job, naming the field
      checkDefinition(def, config);
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
    // a trainer without what it needs fails here, at its spec key, before the first job (not after training); a
    // relative base checkpoint is resolved against the spec's folder first
    prepareConfig(config, ctx) {
      const resolved =
        def.base.checkpointKey !== undefined ? withAbsoluteCheckpoint(config, def.base.checkpointKey, ctx) : config;
      const bad = trainerIssues(def, resolved)[0];
      if (bad) ctx.fail(bad.path, bad.message);
      return resolved;
    },
    summarize(config, input, jobs, results, preset) {
      const arms = checkArms(def.name, input.arms, supported);
      return summarizeExperiment(def, config, conditionsOf(def, config), arms, input, jobs, results, preset);
    },
    experiment: def,
  };
}
