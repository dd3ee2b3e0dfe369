/**
 * File-system failures as one line naming the path: Node's fd-based calls (write, fsync, a stream's write) report
 * `ENOSPC: no space left on device, write` with no path at all, so every write path of mst goes through `withPath`.
 */
import { existsSync, mkdirSync, realpathSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** Plain words for the errno codes a user can act on; anything else keeps Node's own text. */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EISDIR: "is a directory, not a file",
  ENOTDIR: "a parent of this path is not a directory",
  ENOENT: "no such file or directory",
  EEXIST: "already exists",
  EMFILE: "too many open files",
  EIO: "input/output error",
};

/** The errno code (`ENOSPC`...) of a Node system error, or undefined. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** A file could not be read or written: `<path>: cannot write: no space left on device (ENOSPC)`. */
export class FileAccessError extends Error {
  override name = "FileAccessError";
  constructor(
    readonly path: string,
    readonly action: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${path}: cannot ${action}: ${detail}${code ? ` (${code})` : ""}`);
  }
}

/** Wraps a Node file-system error as a FileAccessError naming `path` (other errors pass through unchanged). */
export function fileError(path: string, action: string, e: unknown): unknown {
  if (e instanceof FileAccessError) return e;
  const code = errnoCode(e);
  if (code === undefined) return e;
  const detail = ERRNO_WORDS[code] ?? (e as Error).message.replace(/^E[A-Z0-9]+: /, "").split(",")[0];
  const err = new FileAccessError(path, action, code, detail);
  (err as { cause?: unknown }).cause = e;
  return err;
}

/** Runs `fn`; a file-system error it throws becomes a FileAccessError naming `path` and what was being done. */
export function withPath<T>(path: string, action: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fileError(path, action, e);
  }
}

/**
 * Writes all of `data` at the file position: `writeSync` may write only part of it (the last free block of a nearly
 * full disk) and return the count without an error, so a single call can silently drop the rest. Looping makes the
 * next call fail with ENOSPC instead.
 */
export function writeFully(fd: number, data: string | Uint8Array): void {
  let bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  while (bytes.length > 0) {
    const n = writeSync(fd, bytes);
    bytes = bytes.subarray(n);
  }
}

/**
 * `mkdir -p` whose failure names `path` and the real cause: Node's recursive mkdir reports ENOENT when it cannot
 * create a missing parent (a read-only file system, no permission), which reads as "no such folder". On ENOENT the
 * missing folders are created one by one, so the call that fails reports EROFS / EACCES / ENOTDIR itself.
 */
export function makeDir(path: string, action = "create folder"): void {
  withPath(path, action, () => {
    try {
      mkdirSync(path, { recursive: true });
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw e;
      const missing: string[] = [];
      for (let p = resolve(path); !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.unshift(p);
      for (const m of missing) mkdirSync(m);
      throw e;
    }
  });
}

/**
 * The absolute path with symlinks resolved in its existing part, so two spellings of one file (`d/../d/x`, a linked
 * folder) compare equal before anything is written to them.
 */
export function canonicalPath(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(canonicalPath(parent), basename(abs));
}

/** Async `withPath`. */
export async function withPathAsync<T>(path: string, action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fileError(path, action, e);
  }
}
