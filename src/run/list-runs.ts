/** Finds run directories and summarises each (task, preset, status, date, headline) for `mst runs`. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { getTask, listTasks } from "../tasks/registry.js";
import { TaskResultsSchema } from "../report/results-schema.js";
import { RUN_FILES, isJobDone, readJsonFile } from "./run-dir.js";
import { ResolvedSpecSchema } from "./spec.js";

export interface RunStatus {
  status: "complete" | "partial" | "unknown";
  done: number;
  /** Planned jobs (0 when the plan cannot be rebuilt, e.g. the task is not registered here). */
  total: number;
}

export interface RunListing extends RunStatus {
  dir: string;
  task: string;
  preset: string;
  /** Start time from env.json (ISO), or the directory's mtime. */
  date: string;
  headline: Record<string, number>;
  /** Why the directory could not be read fully, if so. */
  problem?: string;
}

/** Done / planned jobs of a run, re-planned from spec.resolved.json. */
export function runStatus(runDir: string): RunStatus {
  const specFile = join(runDir, RUN_FILES.spec);
  try {
    // an endpoint evaluation (mst eval) has its own eval-only plan: its jobs are the job directories it wrote
    if (existsSync(join(runDir, RUN_FILES.endpoint))) {
      const ids = existsSync(join(runDir, RUN_FILES.jobs)) ? readdirSync(join(runDir, RUN_FILES.jobs)) : [];
      const done = ids.filter((id) => isJobDone(runDir, id)).length;
      const complete = done === ids.length && existsSync(join(runDir, RUN_FILES.results));
      return { status: complete ? "complete" : "partial", done, total: ids.length };
    }
    const spec = readJsonFile(specFile, ResolvedSpecSchema);
    if (!listTasks().includes(spec.task)) return { status: "unknown", done: 0, total: 0 };
    const task = getTask(spec.task);
    const plan = task.plan(task.configSchema.parse(spec.config), {
      arms: spec.arms,
      seeds: spec.seeds,
      baseSeeds: spec.baseSeeds,
    });
    const done = plan.filter((j) => isJobDone(runDir, j.id)).length;
    const complete = done === plan.length && existsSync(join(runDir, RUN_FILES.results));
    return { status: complete ? "complete" : "partial", done, total: plan.length };
  } catch {
    return { status: "unknown", done: 0, total: 0 };
  }
}

const EnvStart = z.object({ startedAt: z.string() });

/** Every run directory directly under `root` (a directory holding spec.resolved.json), newest first. */
export function listRuns(root: string): RunListing[] {
  if (!existsSync(root)) return [];
  const out: RunListing[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, RUN_FILES.spec))) continue;
    const row: RunListing = {
      dir,
      task: "?",
      preset: "?",
      date: statSync(dir).mtime.toISOString(),
      headline: {},
      ...runStatus(dir),
    };
    try {
      const spec = readJsonFile(join(dir, RUN_FILES.spec), ResolvedSpecSchema);
      row.task = spec.task;
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
