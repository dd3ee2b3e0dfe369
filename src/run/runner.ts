/**
 * The experiment runner: creates (or resumes) a run directory, executes the task's job graph on worker processes,
 * then writes results.json (from `task.summarize`), report.html and summary.md.
 *
 * ```ts
 * const { resolved, out } = resolveSpec({ task: "toy" });
 * const outcome = await startRun(resolved, out ?? defaultRunDir("toy", resolved.preset), { jobs: 2 });
 * console.log(outcome.results.headline);
 * ```
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { JsonSchema, type Json } from "../data/sample.js";
import { getTask } from "../tasks/registry.js";
import type { PlanInput, Task, TaskResults } from "../experiment/task.js";
import { RunDirError } from "./errors.js";
import { collectEnv, type RunEnv } from "./env.js";
import { autoProgress, type ProgressView } from "./progress.js";
import { writeRunReport } from "./run-report.js";
import { RUN_FILES, createRunDir, readJsonFile, writeJsonAtomic } from "./run-dir.js";
import { appendRunLog, defaultJobs, readResults, runJobs } from "./scheduler.js";
import { ResolvedSpecSchema, type ResolvedSpec } from "./spec.js";

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
  const task = getTask(resolved.task);
  createRunDir(dir, opts.force ?? false);
  writeJsonAtomic(join(dir, RUN_FILES.spec), resolved);
  const jobs = opts.jobs ?? resolved.jobs ?? defaultJobs();
  writeJsonAtomic(join(dir, RUN_FILES.env), collectEnv(jobs));
  writeFileSync(join(dir, RUN_FILES.log), "");
  appendRunLog(join(dir, RUN_FILES.log), `new run: task ${resolved.task}, preset ${resolved.preset}`);
  return execute(task, resolved, dir, jobs, opts);
}

/** Continues a run from its spec.resolved.json, reusing every job whose result.json exists. */
export async function resumeRun(runDir: string, opts: RunOptions = {}): Promise<RunOutcome> {
  const dir = resolve(runDir);
  const specFile = join(dir, RUN_FILES.spec);
  if (!existsSync(specFile)) throw new RunDirError(specFile, "missing: not a run directory (nothing to resume)");
  if (existsSync(join(dir, RUN_FILES.endpoint)))
    throw new RunDirError(join(dir, RUN_FILES.endpoint), "an endpoint evaluation (mst eval), not a training run: run mst eval again");
  const resolved = readJsonFile(specFile, ResolvedSpecSchema);
  const task = getTask(resolved.task);
  // Re-validate the stored config: a task whose schema changed since the run started must say so, not misread it.
  const parsed = task.configSchema.safeParse(resolved.config);
  if (!parsed.success) {
    throw new RunDirError(
      specFile,
      `config no longer valid for task "${task.name}": ${parsed.error.issues[0]?.message}`,
    );
  }
  const jobs = opts.jobs ?? resolved.jobs ?? defaultJobs();
  const envFile = join(dir, RUN_FILES.env);
  if (existsSync(envFile)) {
    const env = readJsonFile(envFile, JsonSchemaLoose);
    const resumes = Array.isArray(env.resumes) ? env.resumes : [];
    writeJsonAtomic(envFile, { ...env, resumes: [...resumes, collectEnv(jobs) as unknown as Json] });
  } else {
    writeJsonAtomic(envFile, collectEnv(jobs));
  }
  appendRunLog(join(dir, RUN_FILES.log), `resume: task ${resolved.task}, preset ${resolved.preset}`);
  return execute(task, resolved, dir, jobs, opts);
}

/** env.json is our own file; only its top level must be an object to append a resume record. */
const JsonSchemaLoose = z.record(z.string(), JsonSchema);

async function execute(
  task: Task,
  resolved: ResolvedSpec,
  runDir: string,
  jobs: number,
  opts: RunOptions,
): Promise<RunOutcome> {
  const t0 = Date.now();
  const logFile = join(runDir, RUN_FILES.log);
  const log = (line: string) => appendRunLog(logFile, line);
  const input: PlanInput = { arms: resolved.arms, seeds: resolved.seeds, baseSeeds: resolved.baseSeeds };
  const config = task.configSchema.parse(resolved.config);
  const plan = task.plan(config, input);
  const progress = opts.progress ?? autoProgress();
  let counts: { ran: number; reused: number };
  // Ctrl-C: workers (same process group) get the signal too; restore the terminal and say how to continue.
  const onInterrupt = () => {
    progress.stop();
    log("interrupted (SIGINT)");
    process.stderr.write(`\ninterrupted; finished jobs are kept. Continue with: mst run --resume ${runDir}\n`);
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  try {
    progress.message(`run directory: ${runDir}`);
    counts = await runJobs(plan, { task: task.name, config: resolved.config, runDir, jobs, progress, log });
  } finally {
    process.removeListener("SIGINT", onInterrupt);
    progress.stop();
  }
  const results = task.summarize(config, input, plan, readResults(runDir, plan, task.validateResult?.bind(task)), resolved.preset);
  writeJsonAtomic(join(runDir, RUN_FILES.results), results);
  log("wrote results.json");
  if (opts.report ?? true) {
    await writeRunReport(runDir);
    log("wrote report.html and summary.md");
  }
  return { runDir, results, ...counts, seconds: (Date.now() - t0) / 1000 };
}

export type { RunEnv };
