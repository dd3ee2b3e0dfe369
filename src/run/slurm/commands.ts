/** SLURM's client commands (sbatch, squeue, scancel, sacct, scontrol) run as child processes, their output parsed. */
import { execFile } from "node:child_process";
import { userInfo } from "node:os";

/** A SLURM command that could not run or failed; the message names the command and what it printed. */
export class SlurmCommandError extends Error {
  override name = "SlurmCommandError";
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(`${command}: ${detail}`);
  }
}

/** Runs one command; resolves with stdout, rejects with SlurmCommandError (a missing binary says so). */
export function slurmCommand(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT")
        return reject(
          new SlurmCommandError(cmd, "not found on PATH: the slurm executor needs SLURM's client commands"),
        );
      const said = (stderr || stdout || err.message).trim().split("\n").slice(-3).join("; ");
      reject(new SlurmCommandError(`${cmd} ${args.join(" ")}`, said));
    });
  });
}

/** Submits a batch script; returns SLURM's job id (`sbatch --parsable` prints "id" or "id;cluster"). */
export async function sbatch(args: string[], script: string): Promise<string> {
  const out = await slurmCommand("sbatch", ["--parsable", ...args, script]);
  const id = out.trim().split("\n").pop()?.split(";")[0] ?? "";
  if (!/^\d+(_\d+)?$/.test(id)) throw new SlurmCommandError("sbatch", `unexpected answer "${out.trim()}"`);
  return id;
}

/** One line of squeue: a job SLURM still knows (queued, running, or finished less than MinJobAge ago). */
export interface QueuedJob {
  id: string;
  name: string;
  /** PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, CANCELLED, ... */
  state: string;
  /** Why it is pending, or why it ended (TimeLimit, NonZeroExitCode, DependencyNeverSatisfied, ...). */
  reason: string;
}

/** The user's jobs whose name starts with `prefix`, in every state SLURM still reports. */
export async function squeue(prefix: string): Promise<QueuedJob[]> {
  const out = await slurmCommand("squeue", [
    "--noheader",
    "--states=all",
    `--user=${userInfo().username}`,
    "--format=%i|%T|%r|%j",
  ]);
  const jobs: QueuedJob[] = [];
  for (const line of out.split("\n")) {
    const [id, state, reason, ...name] = line.trim().split("|");
    if (!id || state === undefined) continue;
    const n = name.join("|");
    if (n.startsWith(prefix)) jobs.push({ id, name: n, state, reason: reason ?? "" });
  }
  return jobs;
}

/** States in which a job still holds (or waits for) resources: it may yet write its result. */
export const ACTIVE_STATES = new Set([
  "PENDING",
  "CONFIGURING",
  "RUNNING",
  "COMPLETING",
  "SUSPENDED",
  "REQUEUED",
  "REQUEUE_FED",
  "REQUEUE_HOLD",
  "RESIZING",
  "SIGNALING",
  "STAGE_OUT",
  "STOPPED",
  "RESV_DEL_HOLD",
]);

/** Cancels jobs by id (an id SLURM no longer knows is not an error). */
export async function scancel(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await slurmCommand("scancel", ids);
}

/**
 * How a job ended, for a job squeue no longer lists: sacct where accounting is on, else scontrol (which knows jobs
 * for MinJobAge seconds after they end). Null when neither knows the job any more.
 */
export async function finishedState(id: string): Promise<{ state: string; reason: string; exitCode: string } | null> {
  try {
    const out = await slurmCommand("sacct", [
      "--noheader",
      "--parsable2",
      "--allocations",
      `--jobs=${id}`,
      "--format=State,Reason,ExitCode",
    ]);
    const [state, reason, exitCode] = (out.trim().split("\n")[0] ?? "").split("|");
    // sacct writes "CANCELLED by 1000": the state is the first word
    const word = (state ?? "").split(" ")[0];
    // a state is one upper-case word; anything else is sacct saying something else (then scontrol below)
    if (/^[A-Z_]+$/.test(word)) return { state: word, reason: reason ?? "", exitCode: exitCode ?? "" };
  } catch {
    // accounting storage disabled (a small cluster, or ours in tests): scontrol below
  }
  try {
    const out = await slurmCommand("scontrol", ["--oneliner", "show", "job", id]);
    const field = (k: string): string => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(out)?.[1] ?? "";
    const state = field("JobState");
    if (state) return { state, reason: field("Reason"), exitCode: field("ExitCode") };
  } catch {
    // the job is gone from the controller's memory too
  }
  return null;
}

/** The run's fields of one job as scontrol shows them (time limit, memory), for naming why SLURM stopped a job. */
export async function jobLimits(id: string): Promise<{ timeLimit: string; mem: string }> {
  try {
    const out = await slurmCommand("scontrol", ["--oneliner", "show", "job", id]);
    const field = (k: string): string => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(out)?.[1] ?? "";
    const tres = field("TRES");
    return { timeLimit: field("TimeLimit"), mem: /mem=([^,]+)/.exec(tres)?.[1] ?? "" };
  } catch {
    return { timeLimit: "", mem: "" };
  }
}
