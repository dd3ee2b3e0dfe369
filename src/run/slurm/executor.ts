/**
 * The slurm executor: submits every unfinished job of the graph as one sbatch job (`mst job run <run-dir> <id>`) with
 * `--dependency=afterok:` edges, then follows them through squeue until each has written its result.json. A resume
 * adopts the run's jobs still queued or running (found by job name) instead of submitting them twice.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { withPath } from "../../data/fs-errors.js";
import type { JobSpec } from "../../experiment/task.js";
import { JobFailedError } from "../errors.js";
import { type SlurmExecutor, SLURM_DEFAULTS, resourcesFor } from "../executor-spec.js";
import { JobErrorFileSchema, JobProgressFileSchema, NODE_JOB_FILES } from "../job-command.js";
import { JOB_FILES, RUN_FILES, isJobDone, jobDirOf, writeJsonAtomic, writeTextAtomic } from "../run-dir.js";
import { type ScheduleOptions, checkPlan, finishedJobs, resultProblem } from "../scheduler.js";
import { ACTIVE_STATES, type QueuedJob, finishedState, jobLimits, sbatch, scancel, squeue } from "./commands.js";
import { describeSlurmEnd, slurmKilled } from "./reason.js";
import { batchScript, jobNamePrefix, sbatchArgs } from "./script.js";

export interface SlurmScheduleOptions extends Omit<ScheduleOptions, "jobs"> {
  exec: SlurmExecutor;
}

/** One submitted (or adopted) job while it is followed. */
interface Tracked {
  job: JobSpec;
  slurmId: string;
  /** When it was first seen running (for the progress display's timings). */
  startedAt: number | null;
  /** When SLURM first said it ended while its result.json was not (yet) visible: a shared disk can lag. */
  endedAt: number | null;
  lastProgress: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Follows one run's SLURM jobs; `run` resolves when every job has its result, or rejects on the first failure. */
export class SlurmJobs {
  private readonly tracked = new Map<string, Tracked>();
  private readonly prefix: string;
  private readonly pollMs: number;

  constructor(
    private readonly plan: JobSpec[],
    private readonly opts: SlurmScheduleOptions,
  ) {
    const specText = withPath(join(opts.runDir, RUN_FILES.spec), "read", () =>
      readFileSync(join(opts.runDir, RUN_FILES.spec), "utf8"),
    );
    this.prefix = jobNamePrefix(opts.runDir, specText);
    this.pollMs = 1000 * (opts.exec.pollSeconds ?? SLURM_DEFAULTS.pollSeconds);
  }

  /** SLURM ids of the run's jobs not finished yet (for Ctrl-C's question). */
  activeIds(): string[] {
    return [...this.tracked.values()].filter((t) => !isJobDone(this.opts.runDir, t.job.id)).map((t) => t.slurmId);
  }

  async run(): Promise<{ ran: number; reused: number }> {
    const { opts } = this;
    const order = checkPlan(this.plan);
    const done = finishedJobs(order, opts);
    const reused = done.size;
    const cost = (j: JobSpec) => j.cost ?? 1;
    opts.progress.start(
      order.reduce((a, j) => a + cost(j), 0),
      order.filter((j) => done.has(j.id)).reduce((a, j) => a + cost(j), 0),
      order.length,
      done.size,
    );
    const pending = order.filter((j) => !done.has(j.id));
    opts.log(
      `plan: ${order.length} jobs, ${done.size} already finished, slurm executor (job names ${this.prefix}<id>)`,
    );
    await this.adoptOrSubmit(pending);
    let ran = 0;
    while (this.tracked.size > 0) {
      await sleep(this.pollMs);
      const queue = new Map((await squeue(this.prefix)).map((q) => [q.id, q]));
      for (const t of [...this.tracked.values()]) {
        const outcome = await this.look(t, queue.get(t.slurmId));
        if (outcome === "active") continue;
        this.tracked.delete(t.job.id);
        if (outcome === "done") {
          ran++;
          const seconds = (Date.now() - (t.startedAt ?? Date.now())) / 1000;
          opts.progress.jobFinished(t.job, seconds);
          opts.log(`done ${t.job.id} (SLURM job ${t.slurmId}) in ${seconds.toFixed(2)}s`);
          continue;
        }
        if (outcome === "blocked") continue;
        await this.fail(t, outcome.detail, outcome.resumable);
      }
    }
    return { ran, reused };
  }

  /** Adopts each pending job the queue still holds for this run; submits the others in dependency order. */
  private async adoptOrSubmit(pending: JobSpec[]): Promise<void> {
    const { opts } = this;
    const byName = new Map<string, QueuedJob>();
    const stale: string[] = [];
    for (const q of await squeue(this.prefix)) {
      if (!ACTIVE_STATES.has(q.state)) continue;
      // waiting on a dependency that failed while nobody followed the run: it would never start
      if (q.reason === "DependencyNeverSatisfied") stale.push(q.id);
      else {
        const prev = byName.get(q.name);
        // two live submissions of one job (should not happen): follow the newer, cancel the older
        if (prev !== undefined) stale.push(Number(prev.id) < Number(q.id) ? prev.id : q.id);
        if (prev === undefined || Number(prev.id) < Number(q.id)) byName.set(q.name, q);
      }
    }
    if (stale.length > 0) {
      opts.log(`cancelling SLURM jobs ${stale.join(", ")}: their dependencies failed, they are submitted again`);
      await scancel(stale);
    }
    for (const job of pending) {
      const name = this.prefix + job.id;
      const q = byName.get(name);
      if (q !== undefined && !stale.includes(q.id)) {
        this.track(job, q.id, q.state === "RUNNING" ? Date.now() : null);
        const line = `adopted ${job.id}: SLURM job ${q.id} is still ${q.state.toLowerCase()}`;
        opts.log(line);
        opts.progress.message(line);
        if (q.state === "RUNNING") opts.progress.jobStarted(job, resourcesFor(opts.exec, job.kind).cpus);
        continue;
      }
      await this.submit(job, name);
    }
  }

  private async submit(job: JobSpec, name: string): Promise<void> {
    const { opts } = this;
    const dir = jobDirOf(opts.runDir, job.id);
    // a directory without result.json is partial (an earlier attempt): start it afresh, as a local worker does
    withPath(dir, "clear job directory", () => {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    });
    const script = join(dir, NODE_JOB_FILES.script);
    writeTextAtomic(script, batchScript({ exec: opts.exec, job, runDir: opts.runDir, name, gemm: opts.gemm }));
    const afterOk = job.deps.flatMap((d) => {
      const t = this.tracked.get(d);
      return t === undefined ? [] : [t.slurmId];
    });
    const id = await sbatch(sbatchArgs(opts.exec, job, afterOk), script);
    writeJsonAtomic(join(dir, NODE_JOB_FILES.submission), {
      slurmJobId: id,
      name,
      submittedAt: new Date().toISOString(),
    });
    this.track(job, id, null);
    opts.log(`submitted ${job.id} as SLURM job ${id}${afterOk.length > 0 ? ` (after ${afterOk.join(", ")})` : ""}`);
  }

  private track(job: JobSpec, slurmId: string, startedAt: number | null): void {
    this.tracked.set(job.id, { job, slurmId, startedAt, endedAt: null, lastProgress: "" });
  }

  /** Where a job stands now. */
  private async look(
    t: Tracked,
    q: QueuedJob | undefined,
  ): Promise<"active" | "done" | "blocked" | { detail: string; resumable: boolean }> {
    const { opts } = this;
    const dir = jobDirOf(opts.runDir, t.job.id);
    if (isJobDone(opts.runDir, t.job.id)) {
      const problem = resultProblem(opts.runDir, t.job, opts.resultSchema);
      return problem === null ? "done" : { detail: `result ${problem}`, resumable: true };
    }
    if (q !== undefined && ACTIVE_STATES.has(q.state)) {
      if (q.state === "RUNNING" && t.startedAt === null) {
        t.startedAt = Date.now();
        opts.progress.jobStarted(t.job, resourcesFor(opts.exec, t.job.kind).cpus);
        opts.log(`start ${t.job.id} (SLURM job ${t.slurmId})`);
      }
      this.showProgress(t, dir);
      return "active";
    }
    if (q?.state === "CANCELLED" && q.reason === "DependencyNeverSatisfied") return "blocked";
    // Ended without a visible result. COMPLETED (or gone from the queue) may be a shared disk that has not shown
    // result.json here yet: look again for a few polls before calling it a failure.
    const maybeLagging = q === undefined || q.state === "COMPLETED";
    if (maybeLagging) {
      t.endedAt ??= Date.now();
      if (Date.now() - t.endedAt < Math.max(3 * this.pollMs, 5000)) return "active";
    }
    const end = q !== undefined ? { state: q.state, reason: q.reason, exitCode: "" } : await finishedState(t.slurmId);
    const own = readJobError(dir);
    if (end === null)
      return {
        detail:
          own?.message ??
          `SLURM job ${t.slurmId} left the queue without a result (and SLURM no longer knows how it ended)`,
        resumable: own?.resumable ?? true,
      };
    if (end.exitCode === "" && q !== undefined) {
      const more = await finishedState(t.slurmId);
      if (more !== null) end.exitCode = more.exitCode;
    }
    const limits = end.state === "TIMEOUT" || end.state === "OUT_OF_MEMORY" ? await jobLimits(t.slurmId) : {};
    const slurm = describeSlurmEnd({ id: t.slurmId, ...end, ...limits });
    // the job's own error says what went wrong inside it; SLURM's state says what happened to it from outside
    if (own !== null && !slurmKilled(end.state))
      return { detail: `${own.message}; ${slurm}`, resumable: own.resumable };
    return { detail: slurm, resumable: true };
  }

  private showProgress(t: Tracked, dir: string): void {
    let text: string;
    try {
      text = readFileSync(join(dir, NODE_JOB_FILES.progress), "utf8");
    } catch {
      return;
    }
    if (text === t.lastProgress) return;
    t.lastProgress = text;
    try {
      const p = JobProgressFileSchema.parse(JSON.parse(text));
      this.opts.progress.jobProgress(t.job, p.phase, p.done, p.total);
    } catch {
      // caught between two writes on a disk without atomic rename: the next poll reads it
    }
  }

  /** Cancels the jobs that depended on the failed one (they could never start) and throws JobFailedError. */
  private async fail(t: Tracked, detail: string, resumable: boolean): Promise<never> {
    const { opts } = this;
    const blocked = new Set<string>([t.job.id]);
    for (const j of checkPlan(this.plan)) if (j.deps.some((d) => blocked.has(d))) blocked.add(j.id);
    blocked.delete(t.job.id);
    const cancel = [...this.tracked.values()].filter((x) => blocked.has(x.job.id));
    if (cancel.length > 0) await scancel(cancel.map((x) => x.slurmId)).catch(() => {});
    for (const x of cancel) this.tracked.delete(x.job.id);
    const others = [...this.tracked.values()].map((x) => x.slurmId);
    opts.log(`FAILED ${t.job.id}: ${detail}`);
    if (cancel.length > 0)
      opts.log(`cancelled ${cancel.length} dependent jobs: ${cancel.map((x) => x.job.id).join(", ")}`);
    // a resume adopts the others; say so only when a resume can help (see JobFailedError)
    const still =
      others.length > 0
        ? `\n  ${others.length} other jobs of the run are still queued or running on the cluster (SLURM ${others.join(", ")}): ${resumable ? "--resume adopts them; " : ""}scancel stops them`
        : "";
    throw new JobFailedError(
      t.job.id,
      detail + still,
      `${jobDirOf(opts.runDir, t.job.id)}/${JOB_FILES.log}`,
      opts.runDir,
      resumable,
    );
  }

  /**
   * Ctrl-C: on a terminal, asks whether to cancel the run's queued and running jobs; otherwise leaves them to
   * finish (a resume adopts them). Resolves once answered.
   */
  async interrupt(): Promise<void> {
    const ids = this.activeIds();
    if (ids.length === 0) return;
    let cancel = false;
    if (process.stdin.isTTY) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await new Promise<string>((res) =>
        rl.question(`\ncancel the run's ${ids.length} queued or running SLURM jobs (scancel)? [y/N] `, res),
      );
      rl.close();
      cancel = /^y(es)?$/i.test(answer.trim());
    }
    if (cancel) {
      await scancel(ids);
      this.opts.log(`interrupted: cancelled SLURM jobs ${ids.join(", ")}`);
      process.stderr.write(`cancelled SLURM jobs ${ids.join(", ")}\n`);
    } else {
      this.opts.log(`interrupted: SLURM jobs ${ids.join(", ")} left queued or running`);
      process.stderr.write(
        `left ${ids.length} SLURM jobs queued or running (${ids.join(", ")}); --resume adopts them, scancel stops them\n`,
      );
    }
  }
}

function readJobError(dir: string): { message: string; resumable: boolean } | null {
  try {
    return JobErrorFileSchema.parse(JSON.parse(readFileSync(join(dir, NODE_JOB_FILES.error), "utf8")));
  } catch {
    return null;
  }
}
