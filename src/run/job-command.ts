/**
 * `mst job run <run-dir> <job-id>`: runs one job of a run in this process, the way a cluster node runs it (the slurm
 * executor submits exactly this command). The job is re-planned from spec.resolved.json, its dependencies' results
 * are read from their result.json, and it writes result.json last; a failure leaves error.json for the follower.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { describeZodError } from "../data/errors.js";
import { withPath } from "../data/fs-errors.js";
import { JsonSchema, type Json } from "../data/sample.js";
import type { ProgressFn } from "../experiment/task.js";
import { RunDirError } from "./errors.js";
import { describeJobError } from "./job-error.js";
import { execJob } from "./job-exec.js";
import { JOB_FILES, RUN_FILES, jobDirOf, readJsonFile, resultFileOf, writeJsonAtomic } from "./run-dir.js";
import { runGemm } from "./run-gemm.js";
import { ResolvedSpecSchema } from "./spec.js";
import { loadTask } from "./task-module.js";

/** Files of a job run by `mst job run` beside result.json and log.txt (the submitter's and the follower's). */
export const NODE_JOB_FILES = {
  /** The batch script the slurm executor submitted (kept for the user to read or resubmit by hand). */
  script: "sbatch.sh",
  /** The SLURM job id of the submission (written by the executor right after sbatch). */
  submission: "slurm.json",
  /** Why the job failed, written by `mst job run` (the follower names it; SLURM knows only the exit code). */
  error: "error.json",
  /** The job's current phase and count, rewritten at most once a second (the follower shows it). */
  progress: "progress.json",
} as const;

export const JobErrorFileSchema = z.strictObject({
  message: z.string(),
  resumable: z.boolean(),
});
export const JobProgressFileSchema = z.strictObject({
  phase: z.string(),
  done: z.number(),
  total: z.number(),
});

/** Files a job run keeps from before it started: the submitter's script, submission record, and the open log. */
const KEPT = new Set<string>([JOB_FILES.log, NODE_JOB_FILES.script, NODE_JOB_FILES.submission]);

/** Runs the job; resolves when result.json is written, rejects (after writing error.json) when the job fails. */
export async function runJobCommand(runDir: string, jobId: string): Promise<void> {
  const specFile = join(runDir, RUN_FILES.spec);
  const resolved = readJsonFile(specFile, ResolvedSpecSchema);
  const task = await loadTask(resolved.task);
  const parsed = task.configSchema.safeParse(resolved.config);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    throw new RunDirError(
      specFile,
      `config not valid for task "${task.name}": ${field ? `field "${field}": ` : ""}${message}`,
    );
  }
  const plan = task.plan(parsed.data, { arms: resolved.arms, seeds: resolved.seeds, baseSeeds: resolved.baseSeeds });
  const job = plan.find((j) => j.id === jobId);
  if (job === undefined) throw new RunDirError(specFile, `the run's plan has no job "${jobId}"`);
  const jobDir = jobDirOf(runDir, jobId);
  // Whatever an earlier attempt left (a requeued job, a resubmission) is partial: clear all but the kept files.
  if (existsSync(jobDir))
    withPath(jobDir, "clear job directory", () => {
      for (const name of readdirSync(jobDir))
        if (!KEPT.has(name)) rmSync(join(jobDir, name), { recursive: true, force: true });
    });
  const deps: Record<string, Json> = {};
  for (const d of job.deps) {
    const file = resultFileOf(runDir, d);
    if (!existsSync(file)) throw new RunDirError(file, `job ${jobId} needs the result of job ${d}, which has none`);
    deps[d] = readJsonFile(file, JsonSchema);
  }
  // The backend the run's workers use (the slurm executor's script exports it; by hand it may be unset): another
  // backend would sum in another order, and the job would not give its local worker's bits.
  process.env.MST_GEMM = runGemm(task, parsed.data);
  const threads = Number(process.env.MST_THREADS ?? "1");
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`mst job run: ${jobId} (${job.title}) in ${runDir}, ${threads} thread${threads > 1 ? "s" : ""}`);
  try {
    await execJob({
      task: resolved.task,
      job,
      config: resolved.config,
      runDir,
      deps,
      threads: Number.isInteger(threads) && threads > 0 ? threads : 1,
      progress: progressFile(join(jobDir, NODE_JOB_FILES.progress)),
      log,
    });
  } catch (e) {
    const { err, resumable } = describeJobError(e, jobDir);
    process.stderr.write(`${(e instanceof Error && e.stack) || err.message}\n`);
    writeJsonAtomic(join(jobDir, NODE_JOB_FILES.error), { message: err.message, resumable });
    throw err;
  }
  log(`mst job run: ${jobId} done`);
}

/** Progress to a file, rewritten at most once a second (and at each phase's end): a file on a shared disk is slow. */
function progressFile(file: string): ProgressFn {
  let last = 0;
  let lastPhase = "";
  return (phase, done, total) => {
    const now = Date.now();
    if (phase === lastPhase && done < total && now - last < 1000) return;
    last = now;
    lastPhase = phase;
    try {
      writeJsonAtomic(file, { phase, done, total });
    } catch {
      // progress is only for the display: a failed write must not fail the job
    }
  };
}
