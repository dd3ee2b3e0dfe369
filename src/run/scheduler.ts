/** Executes a job graph in dependency order on up to N worker processes, skipping jobs whose result.json exists. */
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { describeZodError } from "../data/errors.js";
import { fileError, withPath } from "../data/fs-errors.js";
import { JsonSchema, type Json } from "../data/sample.js";
import type { JobSpec } from "../experiment/task.js";
import { JobFailedError, RunDirError } from "./errors.js";
import type { RunJobMessage, WorkerMessage } from "./ipc.js";
import type { ProgressView } from "./progress.js";
import { JOB_FILES, isJobDone, jobDirOf, readJsonFile, resultFileOf } from "./run-dir.js";

const WORKER = fileURLToPath(new URL("./worker.js", import.meta.url));

export interface ScheduleOptions {
  /** Task reference the workers load (a registered name or a plug-in module's absolute path). */
  task: string;
  config: Json;
  runDir: string;
  /** Worker processes at once. */
  jobs: number;
  progress: ProgressView;
  /** Appends a line to run.log. */
  log(line: string): void;
  /** The schema a job's result.json must match (the task's `resultSchema`), if the task declares one. */
  resultSchema?: (job: JobSpec) => z.ZodType | undefined;
  /** MST_GEMM for the workers (the run's matrix-product backend); unset keeps the environment's. */
  gemm?: string;
  /** Called with the pids of the live workers whenever that set changes (the run lock records them). */
  onWorkers?: (pids: number[]) => void;
}

/**
 * Why a finished job's result.json cannot be trusted (not JSON, or not what the task's schema expects), or null when
 * it can. A result is written last and atomically, so a bad one was damaged after the fact (by hand, by a disk).
 */
export function resultProblem(
  runDir: string,
  job: JobSpec,
  resultSchema?: (job: JobSpec) => z.ZodType | undefined,
): string | null {
  const file = resultFileOf(runDir, job.id);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    return e instanceof SyntaxError
      ? `is not valid JSON (${e.message})`
      : (fileError(file, "read", e) as Error).message;
  }
  if (!JsonSchema.safeParse(raw).success) return "is not plain JSON";
  const schema = resultSchema?.(job);
  if (schema === undefined) return null;
  const r = schema.safeParse(raw);
  if (r.success) return null;
  const { field, message } = describeZodError(r.error);
  return `does not match the result schema of "${job.kind}" jobs (${field ? `field "${field}": ` : ""}${message})`;
}

/** Checks ids are unique and filesystem-safe, deps exist, and there is no cycle; returns a topological order. */
export function checkPlan(jobs: JobSpec[]): JobSpec[] {
  const byId = new Map<string, JobSpec>();
  for (const j of jobs) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(j.id)) throw new Error(`plan: job id "${j.id}" is not filesystem-safe`);
    if (byId.has(j.id)) throw new Error(`plan: duplicate job id "${j.id}"`);
    byId.set(j.id, j);
  }
  const order: JobSpec[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (j: JobSpec, path: string[]): void => {
    if (state.get(j.id) === 2) return;
    if (state.get(j.id) === 1) throw new Error(`plan: dependency cycle ${[...path, j.id].join(" -> ")}`);
    state.set(j.id, 1);
    for (const d of j.deps) {
      const dep = byId.get(d);
      if (!dep) throw new Error(`plan: job "${j.id}" depends on unknown job "${d}"`);
      visit(dep, [...path, j.id]);
    }
    state.set(j.id, 2);
    order.push(j);
  };
  for (const j of jobs) visit(j, []);
  return order;
}

/** BLAS threads for each job when up to `concurrent` jobs run at once: an even share of the cores (>= 1). */
export function threadsFor(cores: number, concurrent: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, concurrent)));
}

/** Reads every finished job's result; a damaged one throws RunDirError naming the job and its file. */
export function readResults(
  runDir: string,
  jobs: JobSpec[],
  resultSchema?: (job: JobSpec) => z.ZodType | undefined,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const j of jobs) {
    const problem = resultProblem(runDir, j, resultSchema);
    if (problem !== null) throw new RunDirError(resultFileOf(runDir, j.id), `job ${j.id}: result ${problem}`);
    out[j.id] = readJsonFile(resultFileOf(runDir, j.id), JsonSchema);
  }
  return out;
}

/**
 * The jobs whose result.json can be reused. A damaged result is never trusted: the line says which job and file, and
 * the job runs again (its directory is cleared when it starts).
 */
export function finishedJobs(
  order: JobSpec[],
  opts: Pick<ScheduleOptions, "runDir" | "resultSchema" | "log" | "progress">,
): Set<string> {
  const done = new Set<string>();
  for (const j of order) {
    if (!isJobDone(opts.runDir, j.id)) continue;
    const problem = resultProblem(opts.runDir, j, opts.resultSchema);
    if (problem === null) {
      done.add(j.id);
      continue;
    }
    const file = relative(opts.runDir, resultFileOf(opts.runDir, j.id));
    const line = `job ${j.id}: ${file} ${problem}; running the job again`;
    opts.log(line);
    opts.progress.message(line);
  }
  return done;
}

interface Outcome {
  job: JobSpec;
  ok: boolean;
  detail: string;
  seconds: number;
  /** For a failure: whether a resume can succeed once the cause is gone (see JobFailedError). */
  resumable: boolean;
  /** For a failure the job threw: the error's class name. */
  errorName?: string;
}

/**
 * Runs every unfinished job. Resolves when all are done; rejects with JobFailedError on the first failure, after
 * killing the other running workers (their partial directories are cleared when the run is resumed).
 */
export async function runJobs(plan: JobSpec[], opts: ScheduleOptions): Promise<{ ran: number; reused: number }> {
  const order = checkPlan(plan);
  const cores = availableParallelism();
  const done = finishedJobs(order, opts);
  const reused = done.size;
  const cost = (j: JobSpec) => j.cost ?? 1;
  const totalCost = order.reduce((a, j) => a + cost(j), 0);
  const doneCost = order.filter((j) => done.has(j.id)).reduce((a, j) => a + cost(j), 0);
  opts.progress.start(totalCost, doneCost, order.length, done.size);
  opts.log(`plan: ${order.length} jobs, ${done.size} already finished, up to ${opts.jobs} workers, ${cores} cores`);

  const pending = order.filter((j) => !done.has(j.id));
  const running = new Map<string, { child: ChildProcess; promise: Promise<Outcome> }>();
  let ran = 0;

  const workerPids = (): number[] =>
    [...running.values()].map((x) => x.child.pid).filter((p): p is number => p !== undefined);

  const ready = (): JobSpec[] =>
    pending
      .filter((j) => !running.has(j.id) && j.deps.every((d) => done.has(d)))
      // Costliest first (longest-processing-time heuristic); ties keep plan order, so scheduling is deterministic.
      .sort((a, b) => cost(b) - cost(a) || order.indexOf(a) - order.indexOf(b));

  try {
    for (;;) {
      const r = ready();
      while (running.size < opts.jobs && r.length > 0) {
        const job = r.shift()!;
        // From --jobs alone, never from how many jobs happen to be runnable now: OpenBLAS's Haswell/Zen sgemm rounds
        // differently with 1 and 2 threads, so a count that followed the timing of finished jobs made a run's numbers
        // depend on scheduling, and a resumed run differ from an uninterrupted one.
        const threads = threadsFor(cores, opts.jobs);
        running.set(job.id, launch(job, threads, opts));
        opts.onWorkers?.(workerPids());
      }
      if (running.size === 0) break;
      const out = await Promise.race([...running.values()].map((x) => x.promise));
      running.delete(out.job.id);
      opts.onWorkers?.(workerPids());
      if (!out.ok) {
        opts.log(`FAILED ${out.job.id}: ${out.detail}`);
        throw new JobFailedError(
          out.job.id,
          out.detail,
          `${jobDirOf(opts.runDir, out.job.id)}/${JOB_FILES.log}`,
          opts.runDir,
          out.resumable,
          out.errorName,
        );
      }
      done.add(out.job.id);
      pending.splice(pending.indexOf(out.job), 1);
      ran++;
      opts.progress.jobFinished(out.job, out.seconds);
      opts.log(`done ${out.job.id} in ${out.seconds.toFixed(2)}s`);
    }
  } finally {
    for (const { child } of running.values()) child.kill("SIGKILL");
  }
  if (pending.length > 0) throw new Error(`internal: ${pending.length} jobs could not be scheduled`);
  return { ran, reused };
}

/** Forks one worker for one job. The job directory is cleared first: a directory without result.json is partial. */
function launch(
  job: JobSpec,
  threads: number,
  opts: ScheduleOptions,
): { child: ChildProcess; promise: Promise<Outcome> } {
  const dir = jobDirOf(opts.runDir, job.id);
  withPath(dir, "clear job directory", () => {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });
  const deps: Record<string, Json> = {};
  for (const d of job.deps) deps[d] = readJsonFile(resultFileOf(opts.runDir, d), JsonSchema);
  const logFile = `${dir}/${JOB_FILES.log}`;
  const logStream = createWriteStream(logFile, { flags: "a" });
  let logError: string | null = null;

  const t0 = Date.now();
  const env = {
    ...process.env,
    MST_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    // the worker's parent watcher compares its parent with this (src/run/parent-watch.ts)
    MST_RUNNER_PID: String(process.pid),
    ...(opts.gemm !== undefined ? { MST_GEMM: opts.gemm } : {}),
  };
  // execArgv: [] so a parent started under `node --test` (or with an inspector) does not pass that to workers.
  const child = fork(WORKER, [], { env, execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  child.stdout?.pipe(logStream, { end: false });
  child.stderr?.pipe(logStream, { end: false });
  // A full disk or a lost folder: without a handler the stream's 'error' event kills the runner with a long trace.
  logStream.on("error", (e) => {
    logError ??= (fileError(logFile, "write job log", e) as Error).message;
    child.stdout?.unpipe(logStream);
    child.stderr?.unpipe(logStream);
    // keep draining the worker's output so it never blocks on a full pipe, and stop it: the job fails
    child.stdout?.resume();
    child.stderr?.resume();
    child.kill("SIGKILL");
  });
  opts.progress.jobStarted(job, threads);
  opts.log(`start ${job.id} (pid ${child.pid}, ${threads} thread${threads > 1 ? "s" : ""})`);

  const promise = new Promise<Outcome>((resolvePromise) => {
    let error: string | null = null;
    let resumable = false;
    let errorName: string | undefined;
    let finished = false;
    child.on("message", (m: WorkerMessage) => {
      if (m.type === "progress") opts.progress.jobProgress(job, m.phase, m.done, m.total);
      else if (m.type === "log") {
        if (logError === null) logStream.write(m.line + "\n");
        opts.log(`[${job.id}] ${m.line}`);
      } else if (m.type === "error") {
        error = m.message;
        resumable = m.resumable;
        errorName = m.name;
      } else if (m.type === "done") finished = true;
    });
    child.on("error", (e) => {
      error ??= `could not start worker: ${e.message}`;
    });
    child.on("close", (code, signal) => {
      const seconds = (Date.now() - t0) / 1000;
      // Wait for the log stream to flush so log.txt is complete when the caller reads it (a failed stream: at once).
      const finish = (o: Outcome) =>
        logStream.errored || logStream.destroyed ? resolvePromise(o) : logStream.end(() => resolvePromise(o));
      const hasResult = isJobDone(opts.runDir, job.id);
      if (logError !== null) return finish({ job, ok: false, detail: logError, seconds, resumable: true });
      if (code === 0 && finished && hasResult) return finish({ job, ok: true, detail: "", seconds, resumable: true });
      if (error !== null) return finish({ job, ok: false, detail: error, seconds, resumable, errorName });
      const why = signal ? `worker killed by ${signal}` : `worker exited with code ${code} and no result`;
      finish({ job, ok: false, detail: why + lastLines(logFile), seconds, resumable: true });
    });
    const msg: RunJobMessage = {
      type: "run",
      task: opts.task,
      job,
      config: opts.config,
      runDir: opts.runDir,
      deps,
      threads,
    };
    child.send(msg);
  });
  return { child, promise };
}

/** The last lines of a worker's log, appended to a failure message when the error itself says little. */
function lastLines(file: string): string {
  try {
    const text = readFileSync(file, "utf8").trimEnd();
    if (!text) return "";
    const lines = text.split("\n").slice(-8);
    return `\n  last log lines:\n    ${lines.join("\n    ")}`;
  } catch {
    return "";
  }
}

/** Appends a timestamped line to a run log; a failure names the log file. */
export function appendRunLog(file: string, line: string): void {
  withPath(file, "append to run log", () => appendFileSync(file, `${new Date().toISOString()} ${line}\n`));
}

/** Default worker count: the number of cores. */
export const defaultJobs = (): number => availableParallelism();
