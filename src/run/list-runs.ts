/** Finds run directories and summarises each (task, preset, status, date, headline) for `mst runs`. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { errnoCode, withPath } from "../data/fs-errors.js";
import { TaskResultsSchema } from "../report/results-schema.js";
import { RUN_FILES, isJobDone, readJsonFile } from "./run-dir.js";
import { lockHolder } from "./run-lock.js";
import { ResolvedSpecSchema } from "./spec.js";
import { loadTask } from "./task-module.js";

export interface RunStatus {
  /**
   * complete: every job and results.json; running: a live process holds the run's lock (a run or a resume at work);
   * partial: jobs left, nobody working (`mst run --resume` continues); unsummarized: every job finished but no
   * results.json (the summary failed or was cut off; `mst run --resume` writes it); unknown: the plan cannot be rebuilt.
   */
  status: "complete" | "running" | "partial" | "unsummarized" | "unknown";
  done: number;
  /** Planned jobs (0 when the plan cannot be rebuilt, e.g. the task is not registered here or its module is gone). */
  total: number;
}

export interface RunListing extends RunStatus {
  dir: string;
  /** The task's name (a plug-in's own name when its module loads, else the stored reference). */
  task: string;
  preset: string;
  /** Start time from env.json (ISO), or the directory's mtime. */
  date: string;
  headline: Record<string, number>;
  /** Why the directory could not be read fully, if so. */
  problem?: string;
}

/** Which status done / planned jobs mean, given whether results.json exists and whether someone works in the run. */
function statusOf(runDir: string, done: number, total: number): RunStatus["status"] {
  if (lockHolder(runDir) !== null) return "running";
  if (done === total && existsSync(join(runDir, RUN_FILES.results))) return "complete";
  return done === total ? "unsummarized" : "partial";
}

/** Done / planned jobs of a run, re-planned from spec.resolved.json (loading a plug-in task from its stored path). */
export async function runStatus(runDir: string): Promise<RunStatus & { taskName?: string }> {
  const specFile = join(runDir, RUN_FILES.spec);
  try {
    // an endpoint evaluation (mst eval) has its own eval-only plan: its jobs are the job directories it wrote
    if (existsSync(join(runDir, RUN_FILES.endpoint))) {
      const ids = existsSync(join(runDir, RUN_FILES.jobs)) ? readdirSync(join(runDir, RUN_FILES.jobs)) : [];
      const done = ids.filter((id) => isJobDone(runDir, id)).length;
      return { status: statusOf(runDir, done, ids.length), done, total: ids.length };
    }
    const spec = readJsonFile(specFile, ResolvedSpecSchema);
    const task = await loadTask(spec.task);
    const plan = task.plan(task.configSchema.parse(spec.config), {
      arms: spec.arms,
      seeds: spec.seeds,
      baseSeeds: spec.baseSeeds,
    });
    const done = plan.filter((j) => isJobDone(runDir, j.id)).length;
    return { status: statusOf(runDir, done, plan.length), done, total: plan.length, taskName: task.name };
  } catch {
    return { status: "unknown", done: 0, total: 0 };
  }
}

const EnvStart = z.object({ startedAt: z.string() });

/** The folder given to `mst runs` does not exist or is not a folder. */
export class RunsFolderError extends Error {
  override name = "RunsFolderError";
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/**
 * Every run directory directly under `root` (a directory holding spec.resolved.json), newest first. An entry that
 * cannot be looked at (a dangling symlink, no permission) is skipped and passed to `onSkip` with the reason.
 */
export async function listRuns(
  root: string,
  onSkip: (path: string, why: string) => void = () => {},
): Promise<RunListing[]> {
  if (!existsSync(root)) throw new RunsFolderError(root, "no such folder (mst runs lists the run directories in it)");
  if (!statSync(root).isDirectory()) throw new RunsFolderError(root, "is a file, not a folder of run directories");
  const out: RunListing[] = [];
  for (const name of withPath(root, "read folder", () => readdirSync(root))) {
    const dir = join(root, name);
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (e) {
      const code = errnoCode(e);
      onSkip(dir, code === "ENOENT" ? "a dangling symlink" : `cannot be read (${code ?? (e as Error).message})`);
      continue;
    }
    if (!isDir || !existsSync(join(dir, RUN_FILES.spec))) continue;
    const { taskName, ...status } = await runStatus(dir);
    const row: RunListing = {
      dir,
      task: "?",
      preset: "?",
      date: statSync(dir).mtime.toISOString(),
      headline: {},
      ...status,
    };
    try {
      const spec = readJsonFile(join(dir, RUN_FILES.spec), ResolvedSpecSchema);
      row.task = taskName ?? spec.task;
      row.preset = spec.preset;
      if (existsSync(join(dir, RUN_FILES.env))) row.date = readJsonFile(join(dir, RUN_FILES.env), EnvStart).startedAt;
      if (existsSync(join(dir, RUN_FILES.results)))
        row.headline = readJsonFile(join(dir, RUN_FILES.results), TaskResultsSchema).headline;
    } catch (e) {
      row.problem = (e as Error).message;
    }
    out.push(row);
  }
  return out.sort((a, b) => b.date.localeCompare(a.date));
}
