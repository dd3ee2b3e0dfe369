/** Why a SLURM job ended without a result, in words: SLURM's own state and reason, and the limit it hit. */

/** What SLURM reports about a job that ended. */
export interface SlurmEnd {
  id: string;
  state: string;
  reason: string;
  exitCode: string;
  timeLimit?: string;
  mem?: string;
}

/** States in which SLURM itself stopped the job (the job's own code did not fail): a resume can succeed. */
const KILLED_BY_SLURM = new Set([
  "TIMEOUT",
  "OUT_OF_MEMORY",
  "NODE_FAIL",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
  "CANCELLED",
]);

/** e.g. `SLURM job 17 TIMEOUT (reason TimeLimit): it reached its time limit of 00:01:00`. */
export function describeSlurmEnd(end: SlurmEnd): string {
  const head = `SLURM job ${end.id} ${end.state}${end.reason && end.reason !== "None" ? ` (reason ${end.reason})` : ""}`;
  switch (end.state) {
    case "TIMEOUT":
      return `${head}: it reached its time limit${end.timeLimit ? ` of ${end.timeLimit}` : ""}; give the job kind more time (executor.time or executor.kinds.<kind>.time)`;
    case "OUT_OF_MEMORY":
      return `${head}: it ran out of memory${end.mem ? ` (limit ${end.mem})` : ""}; raise executor.mem or executor.kinds.<kind>.mem`;
    case "NODE_FAIL":
      return `${head}: its node failed`;
    case "BOOT_FAIL":
      return `${head}: its node failed to boot`;
    case "PREEMPTED":
      return `${head}: it was preempted by a higher-priority job`;
    case "DEADLINE":
      return `${head}: it missed its deadline`;
    case "CANCELLED":
      return `${head}: it was cancelled (scancel, or an administrator)`;
    case "FAILED":
      return `${head}: it exited with code ${end.exitCode.split(":")[0] || "?"}`;
    default:
      return `${head}: it ended without a result${end.exitCode ? ` (exit code ${end.exitCode})` : ""}`;
  }
}

/** Whether a resume can succeed (after more time, memory, or a healthy node) rather than fail the same way. */
export function slurmKilled(state: string): boolean {
  return KILLED_BY_SLURM.has(state);
}
