/**
 * One process per run directory: `run.lock` holds the working process's pid, so a second `mst run --resume` (or a
 * `--force` over a running run) is refused with the holder's pid instead of deleting the first one's job directories.
 * A lock whose process is gone (kill -9, a crash) is stale and taken over.
 */
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { errnoCode, fileError, withPath, writeFully } from "../data/fs-errors.js";
import { RunLockedError } from "./errors.js";
import { RUN_FILES } from "./run-dir.js";

interface LockInfo {
  pid: number;
  host: string;
}

/** Whether a process with this pid exists on this machine (EPERM: it exists but belongs to another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === "EPERM";
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Partial<LockInfo>;
    if (typeof v.pid === "number" && Number.isInteger(v.pid) && v.pid > 0)
      return { pid: v.pid, host: String(v.host ?? "") };
  } catch {
    // unreadable or torn (the holder died mid-write): treated as stale below
  }
  return null;
}

/** The live holder of a run directory's lock, or null when it is free or stale. */
export function lockHolder(runDir: string): LockInfo | null {
  const info = readLock(join(runDir, RUN_FILES.lock));
  if (info === null) return null;
  // A lock from another machine (a shared file system) cannot be checked: it counts as held.
  if (info.host !== "" && info.host !== hostname()) return info;
  return alive(info.pid) ? info : null;
}

/** Throws RunLockedError if a live process holds the run directory's lock. */
export function assertUnlocked(runDir: string): void {
  const holder = lockHolder(runDir);
  if (holder !== null) throw new RunLockedError(join(runDir, RUN_FILES.lock), holder.pid, holder.host);
}

/** A held lock; `release` is idempotent and only removes the file while it is still ours. */
export interface RunLock {
  file: string;
  release(): void;
}

/**
 * Takes the run directory's lock (exclusive create); a stale lock is replaced. Throws RunLockedError naming the live
 * holder's pid. The lock is also released when the process exits normally or through `process.exit`.
 */
export function acquireRunLock(runDir: string): RunLock {
  const file = join(runDir, RUN_FILES.lock);
  const body = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }) + "\n";
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx");
    } catch (e) {
      if (errnoCode(e) !== "EEXIST" || attempt > 0) throw fileError(file, "create lock", e);
      const holder = lockHolder(runDir);
      if (holder !== null) throw new RunLockedError(file, holder.pid, holder.host);
      rmSync(file, { force: true }); // stale: its process is gone
      continue;
    }
    try {
      withPath(file, "write lock", () => writeFully(fd, body));
    } catch (e) {
      closeSync(fd);
      rmSync(file, { force: true });
      throw e;
    }
    closeSync(fd);
    break;
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener("exit", release);
    if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  process.once("exit", release);
  return { file, release };
}
