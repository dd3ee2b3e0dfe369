/**
 * The experiment runner: creates (or resumes) a run directory, executes the task's job graph on worker processes,
 * then writes results.json (from `task.summarize`), report.html and summary.md.
 *
 * ```ts
 * const { resolved, task, out } = await resolveSpec({ task: "sycophancy" }); // or a plug-in: "./my-task/task.js"
 * const outcome = await startRun(resolved, out ?? defaultRunDir(task.name, resolved.preset), { jobs: 2 });
 * console.log(outcome.results.headline);
 * ```
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { describeZodError } from "../data/errors.js";
import { withPath } from "../data/fs-errors.js";
import { JsonSchema, type Json } from "../data/sample.js";
import type { PlanInput, Task, TaskResults } from "../experiment/task.js";
import { RunDirError } from "./errors.js";
import { RESULTS_FORMAT } from "../experiment/results.js";
import { nativeNotice } from "../engine/gemm/index.js";
import { collectEnv, type RunEnv } from "./env.js";
import { autoProgress, type ProgressView } from "./progress.js";
import { writeRunReport } from "./run-report.js";
import { RUN_FILES, createRunDir, readJsonFile, writeJsonAtomic } from "./run-dir.js";
import { acquireRunLock, assertUnlocked, type RunLock } from "./run-lock.js";
import { appendRunLog, defaultJobs, readResults, runJobs } from "./scheduler.js";
import { SlurmJobs } from "./slurm/executor.js";
import { runGemm } from "./run-gemm.js";
import { ResolvedSpecSchema, type ResolvedSpec } from "./spec.js";
import { loadTask } from "./task-module.js";

export interface RunOptions {
  /** Worker processes (default: the spec's `jobs`, else the number of cores). */
  jobs?: number;
  /** How progress is shown (default: bars on a TTY, lines otherwise). */
  progress?: ProgressView;
  /** Write report.html and summary.md at the end (default true). */
  report?: boolean;
}

export interface RunOutcome {
  runDir: string;
  results: TaskResults;
  /** Jobs executed now / reused from an earlier (killed) attempt. */
  ran: number;
  reused: number;
  seconds: number;
}

/** Starts a new run in `runDir`; refuses an existing non-empty directory unless `force`. */
export async function startRun(
  resolved: ResolvedSpec,
  runDir: string,
  opts: RunOptions & { force?: boolean } = {},
): Promise<RunOutcome> {
  const dir = resolve(runDir);
  const task = await loadTask(resolved.task);
  // --force over a directory another process is running in would delete its jobs from under it
  if (existsSync(dir)) assertUnlocked(dir);
  // a bad MST_GEMM is refused before the run directory is made
  const gemm = runGemm(task, task.configSchema.parse(resolved.config));
  createRunDir(dir, opts.force ?? false);
  const lock = acquireRunLock(dir);
  try {
    writeJsonAtomic(join(dir, RUN_FILES.spec), resolved);
    const jobs = opts.jobs ?? resolved.jobs ?? defaultJobs();
    const env = collectEnv(jobs, gemm);
    writeJsonAtomic(join(dir, RUN_FILES.env), env);
    sayNativeUnavailable(env);
    const logFile = join(dir, RUN_FILES.log);
    withPath(logFile, "write", () => writeFileSync(logFile, ""));
    appendRunLog(logFile, `new run: task ${task.name} (${resolved.task}), preset ${resolved.preset}`);
    return await execute(task, resolved, dir, jobs, opts, lock);
  } finally {
    lock.release();
  }
}

/** Continues a run from its spec.resolved.json, reusing every job whose result.json exists. */
export async function resumeRun(runDir: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const dir = resolve(runDir);
  const specFile = join(dir, RUN_FILES.spec);
  if (!existsSync(specFile)) throw new RunDirError(specFile, "missing: not a run directory (nothing to resume)");
  if (existsSync(join(dir, RUN_FILES.endpoint)))
    throw new RunDirError(
      join(dir, RUN_FILES.endpoint),
      "an endpoint evaluation (mst eval), not a training run: run mst eval again",
    );
  const lock = acquireRunLock(dir);
  try {
    return await resumeLocked(dir, specFile, opts, lock);
  } finally {
    lock.release();
  }
}

async function resumeLocked(dir: string, specFile: string, opts: RunOptions, lock: RunLock): Promise<RunOutcome> {
  const resolved = readJsonFile(specFile, ResolvedSpecSchema);
  const task = await loadTask(resolved.task);
  // Re-validate the stored config: a task whose schema changed since the run started must say so, not misread it.
  const parsed = task.configSchema.safeParse(resolved.config);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    throw new RunDirError(
      specFile,
      `config no longer valid for task "${task.name}": ${field ? `field "${field}": ` : ""}${message}`,
    );
  }
  const jobs = opts.jobs ?? resolved.jobs ?? defaultJobs();
  const envFile = join(dir, RUN_FILES.env);
  if (existsSync(envFile)) {
    const env = readJsonFile(envFile, JsonSchemaLoose);
    const resumes = Array.isArray(env.resumes) ? env.resumes : [];
    const now = collectEnv(jobs, runGemm(task, parsed.data));
    writeJsonAtomic(envFile, { ...env, resumes: [...resumes, now as unknown as Json] });
    sayNativeUnavailable(now);
  } else {
    const now = collectEnv(jobs, runGemm(task, parsed.data));
    writeJsonAtomic(envFile, now);
    sayNativeUnavailable(now);
  }
  appendRunLog(join(dir, RUN_FILES.log), `resume: task ${resolved.task}, preset ${resolved.preset}`);
  return execute(task, resolved, dir, jobs, opts, lock);
}

/** The one line a run prints when its workers cannot use the native kernel (env.json keeps the reason too). */
function sayNativeUnavailable(env: RunEnv): void {
  if ("nativeUnavailable" in env.gemm && env.gemm.nativeUnavailable !== undefined)
    process.stderr.write(`${nativeNotice(env.gemm.nativeUnavailable)}\n`);
}

/** env.json is our own file; only its top level must be an object to append a resume record. */
const JsonSchemaLoose = z.record(z.string(), JsonSchema);

async function execute(
  task: Task,
  resolved: ResolvedSpec,
  runDir: string,
  jobs: number,
  opts: RunOptions,
  lock: RunLock,
): Promise<RunOutcome> {
  const t0 = Date.now();
  const logFile = join(runDir, RUN_FILES.log);
  const log = (line: string) => appendRunLog(logFile, line);
  const input: PlanInput = { arms: resolved.arms, seeds: resolved.seeds, baseSeeds: resolved.baseSeeds };
  const config = task.configSchema.parse(resolved.config);
  const plan = task.plan(config, input);
  const progress = opts.progress ?? autoProgress();
  const schedule = {
    // the task reference, not its name: a worker loads a plug-in from its path
    task: resolved.task,
    config: resolved.config,
    runDir,
    progress,
    log,
    resultSchema: task.resultSchema?.bind(task),
    gemm: runGemm(task, config),
  };
  // Nothing below the runner knows which executor runs the jobs: the same plan, the same job code, the same files.
  const exec = resolved.executor;
  const slurm = exec?.kind === "slurm" ? new SlurmJobs(plan, { ...schedule, exec: { ...exec, kind: "slurm" } }) : null;
  let counts: { ran: number; reused: number };
  // Ctrl-C: local workers (same process group) get the signal too; SLURM jobs are asked about. Then restore the
  // terminal and say how to continue.
  const onInterrupt = () => {
    progress.stop();
    log("interrupted (SIGINT)");
    const exit = () => {
      lock.release();
      process.stderr.write(`\ninterrupted; finished jobs are kept. Continue with: mst run --resume ${runDir}\n`);
      process.exit(130);
    };
    if (slurm === null) exit();
    else slurm.interrupt().then(exit, exit);
  };
  process.once("SIGINT", onInterrupt);
  try {
    progress.message(`run directory: ${runDir}`);
    counts =
      slurm !== null
        ? await slurm.run()
        : await runJobs(plan, { ...schedule, jobs, onWorkers: (pids) => lock.workers(pids) });
  } finally {
    process.removeListener("SIGINT", onInterrupt);
    progress.stop();
  }
  const jobResults = readResults(runDir, plan, task.resultSchema?.bind(task));
  let results: TaskResults;
  try {
    results = task.summarize(config, input, plan, jobResults, resolved.preset);
  } catch (e) {
    // Without a result schema a hand-edited result.json reaches summarize unchecked; say where to look, not just
    // "Cannot read properties of undefined".
    const hint = task.resultSchema
      ? ""
      : ` (task "${task.name}" declares no result schema, so a damaged ${join(RUN_FILES.jobs, "<id>", "result.json")} is not caught earlier)`;
    throw new Error(`${runDir}: summarizing the job results failed: ${(e as Error).message}${hint}`, { cause: e });
  }
  writeJsonAtomic(join(runDir, RUN_FILES.results), { format: RESULTS_FORMAT, ...results });
  log("wrote results.json");
  if (opts.report ?? true) {
    await writeRunReport(runDir);
    log("wrote report.html and summary.md");
  }
  return { runDir, results, ...counts, seconds: (Date.now() - t0) / 1000 };
}

export type { RunEnv };
