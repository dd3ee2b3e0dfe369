/** Run directory layout and file helpers: paths, atomic JSON writes, validated reads, done-ness of jobs. */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { z } from "zod";
import { describeZodError } from "../data/errors.js";
import { makeDir, withPath } from "../data/fs-errors.js";
import { writeFileAtomic } from "../data/jsonl-write.js";
import { NotARunDirError, RunDirError, RunDirExistsError } from "./errors.js";

/** File names inside a run directory (the layout is documented in the README's "Run directories"). */
export const RUN_FILES = {
  spec: "spec.resolved.json",
  env: "env.json",
  results: "results.json",
  report: "report.html",
  summary: "summary.md",
  log: "run.log",
  jobs: "jobs",
  /** Held while a process works in the run directory (src/run/run-lock.ts). */
  lock: "run.lock",
  /** Present in an `mst eval` run only: the endpoint and the model evaluated for each arm. */
  endpoint: "endpoint.json",
} as const;

/** Files inside `jobs/<id>/` that the runner owns (a task writes anything else it likes beside them). */
export const JOB_FILES = { result: "result.json", log: "log.txt" } as const;

export const jobDirOf = (runDir: string, id: string): string => join(runDir, RUN_FILES.jobs, id);
export const resultFileOf = (runDir: string, id: string): string => join(jobDirOf(runDir, id), JOB_FILES.result);

/** True iff the job finished: its result.json exists (it is written last, by rename, so it is never partial). */
export function isJobDone(runDir: string, id: string): boolean {
  return existsSync(resultFileOf(runDir, id));
}

/** Writes JSON (2-space indent, trailing newline) via a temp file + rename, so readers never see half a file. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

/** Writes text atomically (same temp + rename trick); a failure names `file` and leaves no temp file. */
export function writeTextAtomic(file: string, text: string): void {
  writeFileAtomic(file, text);
}

/** Reads a JSON file and validates it; errors name the file and the field. */
export function readJsonFile<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(withPath(file, "read", () => readFileSync(file, "utf8")));
  } catch (e) {
    if (!existsSync(file)) throw new RunDirError(file, "missing");
    if (e instanceof SyntaxError) throw new RunDirError(file, `not valid JSON: ${e.message}`);
    throw e;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const { field, message } = describeZodError(r.error);
    throw new RunDirError(file, `${field ? `field "${field}": ` : ""}${message}`);
  }
  return r.data;
}

/** Timestamp for default run directory names, e.g. 20261124-134800 (UTC, sortable). */
export function timestampForName(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Default run directory: runs/<task>-<preset>-<timestamp>, relative to the current directory. */
export function defaultRunDir(task: string, preset: string, d: Date = new Date()): string {
  return resolve("runs", `${task}-${preset}-${timestampForName(d)}`);
}

/**
 * Whether `dir` is an mst run directory, the only kind `--force` may delete: it holds a spec.resolved.json of our
 * format, or nothing but run-directory entries (a run that died before writing its spec).
 */
export function isRunDir(dir: string): boolean {
  const specFile = join(dir, RUN_FILES.spec);
  if (existsSync(specFile)) {
    try {
      const spec = JSON.parse(readFileSync(specFile, "utf8")) as { format?: unknown };
      return typeof spec.format === "string" && spec.format.startsWith("mst-run-spec/");
    } catch {
      return false;
    }
  }
  const known = new Set<string>(Object.values(RUN_FILES));
  return readdirSync(dir).every((name) => known.has(name) || /\.tmp-\d+(-\d+)?$/.test(name));
}

/**
 * Creates a fresh run directory. An existing non-empty directory is an error unless `force`, in which case it is
 * removed first (the only place mst deletes a whole run) -- and only if it is a run directory (`isRunDir`): `--force`
 * never deletes a folder of the user's other files.
 */
export function createRunDir(runDir: string, force: boolean): void {
  if (existsSync(runDir)) {
    if (!withPath(runDir, "use as run directory", () => statSync(runDir)).isDirectory()) {
      throw new NotARunDirError(runDir, "it is a file, not a directory");
    }
    if (readdirSync(runDir).length > 0) {
      if (!force) throw new RunDirExistsError(runDir, isRunDir(runDir));
      if (!isRunDir(runDir)) {
        throw new NotARunDirError(runDir, "it holds other files and no spec.resolved.json");
      }
      withPath(runDir, "delete", () => rmSync(runDir, { recursive: true, force: true }));
    }
  }
  makeDir(runDir, "create run directory");
  makeDir(join(runDir, RUN_FILES.jobs), "create run directory");
}
