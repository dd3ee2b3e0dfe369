/** `mst run --dry-run`: the jobs a run (or a resume) would execute, from the resolved spec, with nothing written. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { JobSpec } from "../experiment/task.js";
import { RunDirError } from "./errors.js";
import { RUN_FILES, isJobDone, readJsonFile } from "./run-dir.js";
import { checkPlan } from "./scheduler.js";
import { ResolvedSpecSchema, type ResolvedSpec } from "./spec.js";
import { loadTask } from "./task-module.js";

export interface PlanPreview {
  runDir: string;
  task: string;
  preset: string;
  /** Every planned job in dependency order, and whether its result.json already exists (a resume reuses it). */
  jobs: Array<{ job: JobSpec; done: boolean }>;
}

/** The plan of a resolved spec, in the order the runner would take it (the task's config checked as a run would). */
export async function previewRun(resolved: ResolvedSpec, runDir: string): Promise<PlanPreview> {
  const task = await loadTask(resolved.task);
  const config = task.configSchema.parse(resolved.config);
  const plan = checkPlan(
    task.plan(config, { arms: resolved.arms, seeds: resolved.seeds, baseSeeds: resolved.baseSeeds }),
  );
  const dir = resolve(runDir);
  return { runDir: dir, task: task.name, preset: resolved.preset, jobs: plan.map((job) => ({ job, done: false })) };
}

/** What `mst run --resume DIR` would do: the stored spec's plan, each job marked done when its result.json exists. */
export async function previewResume(runDir: string): Promise<PlanPreview> {
  const dir = resolve(runDir);
  const specFile = join(dir, RUN_FILES.spec);
  if (!existsSync(specFile)) throw new RunDirError(specFile, "missing: not a run directory (nothing to resume)");
  const p = await previewRun(readJsonFile(specFile, ResolvedSpecSchema), dir);
  return { ...p, jobs: p.jobs.map(({ job }) => ({ job, done: isJobDone(dir, job.id) })) };
}

/** The preview as lines for the terminal. */
export function previewLines(p: PlanPreview): string[] {
  const left = p.jobs.filter((j) => !j.done).length;
  return [
    `dry run (nothing written): task ${p.task}, preset ${p.preset}, ${p.jobs.length} jobs, ${left} to run, in ${p.runDir}`,
    ...p.jobs.map(
      ({ job, done }) =>
        `  ${done ? "done" : "run "}  ${job.id}${job.deps.length ? `  <- ${job.deps.join(", ")}` : ""}`,
    ),
  ];
}
