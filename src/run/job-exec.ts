/** Runs one job in this process (a forked worker or `mst job run` on a cluster node) and writes its result.json last. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describeZodError } from "../data/errors.js";
import type { Json } from "../data/sample.js";
import type { JobContext, JobSpec, ProgressFn, Task } from "../experiment/task.js";
import { experimentOf } from "../experiment/define.js";
import { RUN_FILES, jobDirOf, readJsonFile, resultFileOf, writeJsonAtomic } from "./run-dir.js";
import { ResolvedSpecSchema } from "./spec.js";
import { loadTask } from "./task-module.js";

export interface ExecJobInput {
  /** Task reference: a registered name or a plug-in module's absolute path (spec.resolved.json's `task`). */
  task: string;
  job: JobSpec;
  config: Json;
  runDir: string;
  /** Results of the job's dependencies, by id. */
  deps: Record<string, Json>;
  threads: number;
  progress: ProgressFn;
  log(line: string): void;
}

/**
 * Runs the job and writes its result atomically; throws what the job threw. Both executors call this, so a job runs
 * the same code in a local worker and on a SLURM node (and gives the same bits for the same seed and backend).
 */
export async function execJob(input: ExecJobInput): Promise<void> {
  const task = await loadTask(input.task);
  const jobDir = jobDirOf(input.runDir, input.job.id);
  mkdirSync(jobDir, { recursive: true });
  const ctx: JobContext<unknown> = {
    config: input.config,
    runDir: input.runDir,
    jobDir,
    jobDirOf: (id) => jobDirOf(input.runDir, id),
    deps: input.deps,
    progress: input.progress,
    log: input.log,
    threads: input.threads,
  };
  const result: Json = (await trlTrainer(input, task, ctx)) ?? (await task.runJob(input.job, ctx));
  // A result the task's own schema rejects is a bug in the job: refuse to write it, so no resume ever trusts it.
  const schema = task.resultSchema?.(input.job);
  if (schema !== undefined) {
    const r = schema.safeParse(result);
    if (!r.success) {
      const { field, message } = describeZodError(r.error);
      throw new Error(
        `job returned an invalid ${input.job.kind} result (${field ? `field "${field}": ` : ""}${message})`,
      );
    }
  }
  writeJsonAtomic(resultFileOf(input.runDir, input.job.id), result);
}

/**
 * A kit task's train job when the run's spec says `trainer: { engine: trl }`: trained by TRL and imported (null:
 * every other job, and every job of a run on the embedded trainer). The task itself never knows which engine trained.
 */
async function trlTrainer(input: ExecJobInput, task: Task, ctx: JobContext<unknown>): Promise<Json | null> {
  if (input.job.kind !== "train" || experimentOf(task, task.configSchema.parse(input.config)) === undefined)
    return null;
  const resolved = readJsonFile(join(input.runDir, RUN_FILES.spec), ResolvedSpecSchema);
  if (resolved.trainer?.engine !== "trl") return null;
  // loaded only here: its export and Parquet modules added 20-30 ms to every other job's start-up (22 modules)
  const { runTrlTrainJob } = await import("../interop/trl-train-job.js");
  const result = await runTrlTrainJob({
    resolved,
    task,
    job: input.job,
    runDir: input.runDir,
    jobDir: ctx.jobDir,
    jobDirOf: ctx.jobDirOf,
    trainer: resolved.trainer,
    log: ctx.log,
  });
  return result as unknown as Json;
}
