/** JSONL and file writing that never loses finished data: atomic whole-file writes and a per-line-flushing appender. */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
} from "node:fs";
import { dirname } from "node:path";
import type { z } from "zod";
import { JsonlError, describeZodError } from "./errors.js";
import { makeDir, withPath, writeFully } from "./fs-errors.js";

let tmpCounter = 0;

/**
 * Writes `text` to `file` atomically: into a temp file beside it, fsync, then rename over the target. An interrupted
 * write leaves the previous `file` (if any) untouched; a rename within one directory is atomic on POSIX.
 */
export function writeFileAtomic(file: string, text: string): void {
  writeChunksAtomic(file, [text]);
}

function writeChunksAtomic(file: string, chunks: Iterable<string>): void {
  makeDir(dirname(file));
  const tmp = `${file}.tmp-${process.pid}-${tmpCounter++}`;
  // Errors name `file` (the temp name means nothing to a user); on any failure the temp file is removed, so a full
  // disk leaves the previous `file` (or none) behind, never a partial one.
  const fd = withPath(file, "write", () => openSync(tmp, "w"));
  try {
    withPath(file, "write", () => {
      for (const c of chunks) writeFully(fd, c);
      fsyncSync(fd);
    });
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  withPath(file, "write", () => closeSync(fd));
  try {
    withPath(file, "write", () => renameSync(tmp, file));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

function validate<S extends z.ZodType>(schema: S | undefined, rec: unknown, file: string, line: number): unknown {
  if (!schema) return rec;
  const r = schema.safeParse(rec);
  if (!r.success) {
    const { field, message } = describeZodError(r.error);
    throw new JsonlError(file, line, field, `refusing to write invalid record: ${message}`);
  }
  return r.data;
}

/**
 * Writes records as JSONL atomically (temp file + rename). With a `schema`, every record is validated first, and an
 * invalid one throws `JsonlError` naming the line it would have had, before `file` is touched.
 */
export function writeJsonl<S extends z.ZodType>(file: string, records: Iterable<unknown>, schema?: S): void {
  const lines: string[] = [];
  let line = 0;
  for (const rec of records) {
    line++;
    lines.push(JSON.stringify(validate(schema, rec, file, line)) + "\n");
  }
  writeChunksAtomic(file, lines);
}

/**
 * Appends JSON records to a log file, one line per `append`, written with one `write` call each so a crash loses at
 * most the line being written. On open, a torn last line left by an earlier crash (no trailing newline) is cut off,
 * so the file stays valid JSONL; `truncatedBytes` says how much was dropped.
 */
export class JsonlAppender<S extends z.ZodType = z.ZodType> {
  private fd: number | null;
  private line: number;
  readonly truncatedBytes: number;

  private constructor(
    readonly file: string,
    private readonly schema: S | undefined,
    fd: number,
    lines: number,
    truncated: number,
  ) {
    this.fd = fd;
    this.line = lines;
    this.truncatedBytes = truncated;
  }

  /** Opens (creating parent folders and the file if needed) for appending. */
  static open<S extends z.ZodType>(file: string, schema?: S): JsonlAppender<S> {
    return withPath(file, "open for appending", () => {
      mkdirSync(dirname(file), { recursive: true });
      const existed = existsSync(file);
      const fd = openSync(file, existed ? "r+" : "w+");
      const { lines, keep, size } = existed ? scanCompleteLines(fd) : { lines: 0, keep: 0, size: 0 };
      if (keep < size) ftruncateSync(fd, keep);
      closeSync(fd);
      return new JsonlAppender(file, schema, openSync(file, "a"), lines, size - keep);
    });
  }

  /** Number of complete lines in the file so far. */
  get lines(): number {
    return this.line;
  }

  /** Validates (when a schema was given) and appends one record as a line. */
  append(rec: z.input<S>): void {
    if (this.fd === null) throw new Error(`${this.file}: append after close`);
    const value = validate(this.schema, rec, this.file, this.line + 1);
    const fd = this.fd;
    const before = fstatSync(fd).size;
    try {
      withPath(this.file, "append", () => writeFully(fd, JSON.stringify(value) + "\n"));
    } catch (e) {
      // cut the part of the line that did fit, so the file stays whole lines
      try {
        ftruncateSync(fd, before);
      } catch {
        // the torn line is then cut by the next open, like one left by a crash
      }
      throw e;
    }
    this.line++;
  }

  /** Flushes to disk and closes; further appends throw. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      withPath(this.file, "write", () => fsyncSync(fd));
    } finally {
      closeSync(fd);
    }
  }
}

/** Counts newline-terminated lines and finds the byte length up to the last newline. */
function scanCompleteLines(fd: number): { lines: number; keep: number; size: number } {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(1 << 16);
  let pos = 0,
    lines = 0,
    keep = 0;
  while (pos < size) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    for (let i = 0; i < n; i++) {
      if (buf[i] === 0x0a) {
        lines++;
        keep = pos + i + 1;
      }
    }
    pos += n;
  }
  return { lines, keep, size };
}
