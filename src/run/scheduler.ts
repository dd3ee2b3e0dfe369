/** Executes a job graph in dependency order on up to N worker processes, skipping jobs whose result.json exists. */
import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { JsonSchema, type Json } from "../data/sample.js";
import type { JobSpec } from "../experiment/task.js";
import { JobFailedError } from "./errors.js";
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

/** Reads every finished job's result. */
export function readResults(
  runDir: string,
  jobs: JobSpec[],
  validate?: (job: JobSpec, result: unknown, file: string) => Json,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const j of jobs) {
    const file = resultFileOf(runDir, j.id);
    const json = readJsonFile(file, JsonSchema);
    out[j.id] = validate ? validate(j, json, file) : json;
  }
  return out;
}

interface Outcome {
  job: JobSpec;
  ok: boolean;
  detail: string;
  seconds: number;
}

/**
 * Runs every unfinished job. Resolves when all are done; rejects with JobFailedError on the first failure, after
 * killing the other running workers (their partial directories are cleared when the run is resumed).
 */
export async function runJobs(plan: JobSpec[], opts: ScheduleOptions): Promise<{ ran: number; reused: number }> {
  const order = checkPlan(plan);
  const cores = availableParallelism();
  const done = new Set(order.filter((j) => isJobDone(opts.runDir, j.id)).map((j) => j.id));
  const reused = done.size;
  const cost = (j: JobSpec) => j.cost ?? 1;
  const totalCost = order.reduce((a, j) => a + cost(j), 0);
  const doneCost = order.filter((j) => done.has(j.id)).reduce((a, j) => a + cost(j), 0);
  opts.progress.start(totalCost, doneCost, order.length, done.size);
  opts.log(`plan: ${order.length} jobs, ${done.size} already finished, up to ${opts.jobs} workers, ${cores} cores`);

  const pending = order.filter((j) => !done.has(j.id));
  const running = new Map<string, { child: ChildProcess; promise: Promise<Outcome> }>();
  let ran = 0;

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
      }
      if (running.size === 0) break;
      const out = await Promise.race([...running.values()].map((x) => x.promise));
      running.delete(out.job.id);
      if (!out.ok) {
        opts.log(`FAILED ${out.job.id}: ${out.detail}`);
        throw new JobFailedError(
          out.job.id,
          out.detail,
          `${jobDirOf(opts.runDir, out.job.id)}/${JOB_FILES.log}`,
          opts.runDir,
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
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = `${dir}/${JOB_FILES.log}`;
  const logStream = createWriteStream(logFile, { flags: "a" });
  const deps: Record<string, Json> = {};
  for (const d of job.deps) deps[d] = readJsonFile(resultFileOf(opts.runDir, d), JsonSchema);

  const t0 = Date.now();
  const env = { ...process.env, MST_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  // execArgv: [] so a parent started under `node --test` (or with an inspector) does not pass that to workers.
  const child = fork(WORKER, [], { env, execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  child.stdout?.pipe(logStream, { end: false });
  child.stderr?.pipe(logStream, { end: false });
  opts.progress.jobStarted(job, threads);
  opts.log(`start ${job.id} (pid ${child.pid}, ${threads} thread${threads > 1 ? "s" : ""})`);

  const promise = new Promise<Outcome>((resolvePromise) => {
    let error: string | null = null;
    let finished = false;
    child.on("message", (m: WorkerMessage) => {
      if (m.type === "progress") opts.progress.jobProgress(job, m.phase, m.done, m.total);
      else if (m.type === "log") {
        logStream.write(m.line + "\n");
        opts.log(`[${job.id}] ${m.line}`);
      } else if (m.type === "error") error = m.message;
      else if (m.type === "done") finished = true;
    });
    child.on("error", (e) => {
      error ??= `could not start worker: ${e.message}`;
    });
    child.on("close", (code, signal) => {
      const seconds = (Date.now() - t0) / 1000;
      // Wait for the log stream to flush so log.txt is complete when the caller reads it.
      const finish = (o: Outcome) => logStream.end(() => resolvePromise(o));
      const hasResult = isJobDone(opts.runDir, job.id);
      if (code === 0 && finished && hasResult) return finish({ job, ok: true, detail: "", seconds });
      if (error !== null) return finish({ job, ok: false, detail: error, seconds });
      const why = signal ? `worker killed by ${signal}` : `worker exited with code ${code} and no result`;
      finish({ job, ok: false, detail: why + lastLines(logFile), seconds });
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

/** Appends a timestamped line to a run log. */
export function appendRunLog(file: string, line: string): void {
  appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
}

/** Default worker count: the number of cores. */
export const defaultJobs = (): number => availableParallelism();
