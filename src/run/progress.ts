/** Progress display for a run: cli-progress bars with ETA on a TTY, one line per finished job otherwise. */
import cliProgress from "cli-progress";
import type { JobSpec } from "../experiment/task.js";

/** What the runner reports; a view decides how to show it. */
export interface ProgressView {
  /** `totalCost` over all jobs; `doneCost` already finished (resume). */
  start(totalCost: number, doneCost: number, jobsTotal: number, jobsDone: number): void;
  jobStarted(job: JobSpec, threads: number): void;
  jobProgress(job: JobSpec, phase: string, done: number, total: number): void;
  jobFinished(job: JobSpec, seconds: number): void;
  /** A line for the user (printed above the bars on a TTY). */
  message(line: string): void;
  stop(): void;
}

const cost = (j: JobSpec): number => j.cost ?? 1;
const fmtSecs = (s: number): string =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
      : `${s.toFixed(1)}s`;

/** Tracks cost-weighted completion, including the fraction of each running job's current phase. */
class CostTracker {
  total = 0;
  done = 0;
  jobsTotal = 0;
  jobsDone = 0;
  startedAt = Date.now();
  startDone = 0;
  readonly partial = new Map<string, number>();
  value(): number {
    let v = this.done;
    for (const p of this.partial.values()) v += p;
    return v;
  }
  /** Seconds left, by the cost rate of this session (null until something moved). */
  eta(): number | null {
    const moved = this.value() - this.startDone;
    const secs = (Date.now() - this.startedAt) / 1000;
    if (moved <= 0 || secs <= 0) return null;
    return ((this.total - this.value()) * secs) / moved;
  }
}

/** Plain lines, one per finished job: for logs, CI and pipes. */
export class LineProgress implements ProgressView {
  private t = new CostTracker();
  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(l + "\n")) {}
  start(totalCost: number, doneCost: number, jobsTotal: number, jobsDone: number): void {
    Object.assign(this.t, { total: totalCost, done: doneCost, startDone: doneCost, jobsTotal, jobsDone });
    this.t.startedAt = Date.now();
  }
  jobStarted(): void {}
  jobProgress(job: JobSpec, _phase: string, done: number, total: number): void {
    this.t.partial.set(job.id, total > 0 ? (cost(job) * done) / total : 0);
  }
  jobFinished(job: JobSpec, seconds: number): void {
    this.t.partial.delete(job.id);
    this.t.done += cost(job);
    this.t.jobsDone++;
    const eta = this.t.eta();
    const left = this.t.jobsDone < this.t.jobsTotal && eta !== null ? `, ETA ${fmtSecs(eta)}` : "";
    this.write(`[${this.t.jobsDone}/${this.t.jobsTotal}] ${job.title} done in ${fmtSecs(seconds)}${left}`);
  }
  message(line: string): void {
    this.write(line);
  }
  stop(): void {}
}

/** Silent view (library use, tests). */
export class NoProgress implements ProgressView {
  start(): void {}
  jobStarted(): void {}
  jobProgress(): void {}
  jobFinished(): void {}
  message(): void {}
  stop(): void {}
}

/** Bars: one overall bar by job cost with ETA, one per running job showing its current phase. */
export class BarProgress implements ProgressView {
  private t = new CostTracker();
  private multi = new cliProgress.MultiBar(
    {
      format: " {name} |{bar}| {percentage}% {info} | ETA {etaText}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  private overall: cliProgress.SingleBar | null = null;
  private bars = new Map<string, { bar: cliProgress.SingleBar; phase: string }>();
  private width = 0;

  private overallPayload() {
    const eta = this.t.eta();
    return {
      name: "all jobs".padEnd(this.width),
      info: `${this.t.jobsDone}/${this.t.jobsTotal} jobs`,
      etaText: eta === null ? "--" : fmtSecs(eta),
    };
  }
  start(totalCost: number, doneCost: number, jobsTotal: number, jobsDone: number): void {
    Object.assign(this.t, { total: totalCost, done: doneCost, startDone: doneCost, jobsTotal, jobsDone });
    this.t.startedAt = Date.now();
    this.width = 24;
    this.overall = this.multi.create(Math.max(totalCost, 1e-9), doneCost, this.overallPayload());
  }
  jobStarted(job: JobSpec, threads: number): void {
    const bar = this.multi.create(
      1,
      0,
      { name: job.title.slice(0, this.width).padEnd(this.width), info: `starting, ${threads} thread(s)` },
      // Job bars use cli-progress's own per-bar ETA (rate of the current phase).
      { format: " {name} |{bar}| {info} | ETA {eta_formatted}" },
    );
    this.bars.set(job.id, { bar, phase: "" });
  }
  jobProgress(job: JobSpec, phase: string, done: number, total: number): void {
    this.t.partial.set(job.id, total > 0 ? (cost(job) * done) / total : 0);
    const b = this.bars.get(job.id);
    if (b) {
      if (b.phase !== phase) {
        b.phase = phase;
        b.bar.start(Math.max(total, 1), 0); // a new phase restarts the bar (and its ETA buffer)
      }
      b.bar.setTotal(Math.max(total, 1));
      b.bar.update(done, {
        name: job.title.slice(0, this.width).padEnd(this.width),
        info: `${phase} ${done}/${total}`,
      });
    }
    this.overall?.update(this.t.value(), this.overallPayload());
  }
  jobFinished(job: JobSpec): void {
    this.t.partial.delete(job.id);
    this.t.done += cost(job);
    this.t.jobsDone++;
    const b = this.bars.get(job.id);
    if (b) this.multi.remove(b.bar);
    this.bars.delete(job.id);
    this.overall?.update(this.t.value(), this.overallPayload());
  }
  message(line: string): void {
    this.multi.log(line + "\n");
  }
  stop(): void {
    this.multi.stop();
  }
}

/** Bars on a TTY, lines otherwise. */
export function autoProgress(): ProgressView {
  return process.stdout.isTTY ? new BarProgress() : new LineProgress();
}
