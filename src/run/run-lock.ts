/**
 * One process per run directory: `run.lock` holds the working process's pid and its live workers' pids, so a second
 * `mst run --resume` (or a `--force` over a running run) is refused with the holder's pid instead of deleting the first
 * one's job directories. A lock whose runner is gone (kill -9, a crash) is stale and taken over once its workers are
 * gone too (they stop by themselves: src/run/parent-watch.ts); until then it is waited for, then refused.
 */
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { errnoCode, fileError, withPath, writeFully } from "../data/fs-errors.js";
import { writeFileAtomic } from "../data/jsonl-write.js";
import { RunLockedError } from "./errors.js";
import { RUN_FILES } from "./run-dir.js";

interface LockInfo {
  pid: number;
  host: string;
  /** Worker processes the runner had running when it last wrote the lock. */
  workers: number[];
}

/** The live holder of a lock: the runner, or (runner gone) one of its workers still running. */
export interface LockHolder {
  pid: number;
  host: string;
  orphanWorker: boolean;
}

/** How long taking a lock waits for the workers of a dead runner to stop before refusing (they poll every 200 ms). */
export const ORPHAN_WAIT_MS = 5000;

/**
 * Whether a process with this pid runs on this machine (EPERM: it exists but belongs to another user). A zombie (it
 * exited and its parent has not reaped it yet; Linux shows it in /proc) counts as gone: it holds nothing any more.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return errnoCode(e) === "EPERM";
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses, the state follows the last ")"
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) is all we know
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Partial<LockInfo>;
    const pidLike = (p: unknown): p is number => typeof p === "number" && Number.isInteger(p) && p > 0;
    if (pidLike(v.pid))
      return {
        pid: v.pid,
        host: String(v.host ?? ""),
        workers: Array.isArray(v.workers) ? v.workers.filter(pidLike) : [],
      };
  } catch {
    // unreadable or torn (the holder died mid-write): treated as stale below
  }
  return null;
}

/** The live holder of a run directory's lock (its runner, else a worker still alive), or null when free or stale. */
export function lockHolder(runDir: string): LockHolder | null {
  const info = readLock(join(runDir, RUN_FILES.lock));
  if (info === null) return null;
  // A lock from another machine (a shared file system) cannot be checked: it counts as held.
  if (info.host !== "" && info.host !== hostname()) return { pid: info.pid, host: info.host, orphanWorker: false };
  if (alive(info.pid)) return { pid: info.pid, host: info.host, orphanWorker: false };
  const worker = info.workers.find(alive);
  return worker === undefined ? null : { pid: worker, host: info.host, orphanWorker: true };
}

/** Sleeps the thread (the lock is taken synchronously, before any work starts). */
const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The live holder after giving the workers of a dead runner up to `waitMs` to stop (they do within a second of
 * noticing), or null. A live runner is returned at once.
 */
function holderAfterOrphans(runDir: string, waitMs: number): LockHolder | null {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const holder = lockHolder(runDir);
    if (holder === null || !holder.orphanWorker || Date.now() >= deadline) return holder;
    sleepSync(50);
  }
}

const lockedError = (runDir: string, h: LockHolder): RunLockedError =>
  new RunLockedError(join(runDir, RUN_FILES.lock), h.pid, h.host, h.orphanWorker);

/** Throws RunLockedError if a live process holds the run directory's lock (waiting briefly for orphaned workers). */
export function assertUnlocked(runDir: string, waitMs = ORPHAN_WAIT_MS): void {
  const holder = holderAfterOrphans(runDir, waitMs);
  if (holder !== null) throw lockedError(runDir, holder);
}

/** A held lock; `release` is idempotent and only removes the file while it is still ours. */
export interface RunLock {
  file: string;
  release(): void;
  /** Records the pids of the workers running now, so a later process waits for them if this runner dies. */
  workers(pids: number[]): void;
}

/**
 * Takes the run directory's lock (exclusive create); a stale lock is replaced. Throws RunLockedError naming the live
 * holder's pid. The lock is also released when the process exits normally or through `process.exit`.
 */
export function acquireRunLock(runDir: string, waitMs = ORPHAN_WAIT_MS): RunLock {
  const file = join(runDir, RUN_FILES.lock);
  const info = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const body = JSON.stringify(info) + "\n";
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx");
    } catch (e) {
      if (errnoCode(e) !== "EEXIST" || attempt > 0) throw fileError(file, "create lock", e);
      const holder = holderAfterOrphans(runDir, waitMs);
      if (holder !== null) throw lockedError(runDir, holder);
      rmSync(file, { force: true }); // stale: its runner and workers are gone
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
  const workers = (pids: number[]): void => {
    // rewritten whole by rename: a reader never sees half a lock; a failure to record is not worth stopping the run
    if (!held) return;
    try {
      writeFileAtomic(file, JSON.stringify({ ...info, workers: pids }) + "\n");
    } catch {
      // the pids only help a later process wait for orphans; the runner's own pid is already in the file
    }
  };
  return { file, release, workers };
}
