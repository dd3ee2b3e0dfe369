/** How a worker reports a job's error to the runner: a file-system error named by its path, and whether a resume can help. */
import { FileAccessError, errnoCode, fileError } from "../data/fs-errors.js";

/**
 * The error as the runner reports it. A file-system error whose message names no path (Node's fd-based writes say
 * only `ENOSPC: no space left on device, write`) is named by the job's directory, where the job was writing.
 * `resumable`: the cause lies outside the job (a full disk, a lost connection, a provider that stopped answering) and
 * can go away; a job's own config, data or code fails the same way on every resume.
 */
export function describeJobError(e: unknown, jobDir: string): { err: Error; resumable: boolean } {
  let err = e instanceof Error ? e : new Error(String(e));
  const code = errnoCode(err);
  if (code !== undefined && !(err instanceof FileAccessError) && !/'[^']*\/[^']*'/.test(err.message)) {
    const syscall = (err as { syscall?: unknown }).syscall;
    err = fileError(
      jobDir,
      `${typeof syscall === "string" ? syscall : "access files"} in the job directory`,
      err,
    ) as Error;
  }
  const resumable =
    code !== undefined || /^(Provider|CircuitOpen)/.test(err.name) || errnoCode(err.cause) !== undefined;
  return { err, resumable };
}
