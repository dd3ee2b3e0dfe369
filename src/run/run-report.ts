/** Regenerates report.html and summary.md of a run directory from its results.json, spec and environment. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { JsonSchema, type Json } from "../data/sample.js";
import { renderReport } from "../report/render-report.js";
import { TaskResultsSchema } from "../report/results-schema.js";
import { renderSummary } from "../report/summary-md.js";
import type { Task, TaskResults } from "../experiment/task.js";
import { RunDirError } from "./errors.js";
import { RUN_FILES, readJsonFile, writeTextAtomic } from "./run-dir.js";
import { runStatus } from "./list-runs.js";
import { ResolvedSpecSchema } from "./spec.js";
import { loadTask } from "./task-module.js";

/** The run's task for its title and description: from the stored reference (a plug-in's path), else the results' name. */
async function taskOf(spec: Json | undefined, results: TaskResults): Promise<Task | null> {
  const stored = ResolvedSpecSchema.safeParse(spec);
  try {
    return await loadTask(stored.success ? stored.data.task : results.task);
  } catch {
    // a task no longer available here (plug-in moved, task removed): the report is drawn without its description
    return null;
  }
}

/** Writes `<runDir>/report.html` and `<runDir>/summary.md`; returns their paths. */
export async function writeRunReport(runDir: string): Promise<{ html: string; markdown: string }> {
  const resultsFile = join(runDir, RUN_FILES.results);
  if (!existsSync(resultsFile)) {
    // suggest --resume only where it can work: a run directory (it has its spec), not any folder
    throw new RunDirError(
      resultsFile,
      existsSync(join(runDir, RUN_FILES.spec))
        ? `missing: the run has not finished (finish it with \`mst run --resume ${runDir}\`)`
        : `missing, and ${runDir} is not a run directory (no ${RUN_FILES.spec})`,
    );
  }
  const results = readJsonFile(resultsFile, TaskResultsSchema) as TaskResults;
  const specFile = join(runDir, RUN_FILES.spec);
  const envFile = join(runDir, RUN_FILES.env);
  const spec: Json | undefined = existsSync(specFile) ? readJsonFile(specFile, JsonSchema) : undefined;
  const env: Json | undefined = existsSync(envFile) ? readJsonFile(envFile, JsonSchema) : undefined;
  const task = await taskOf(spec, results);
  const st = await runStatus(runDir);
  // the report describes the results it draws: a live lock (most often this very run writing its report) says
  // nothing about them, so the status shown is what the finished jobs and results.json (read above) make it
  const shown = st.status === "running" ? (st.done === st.total ? "complete" : "partial") : st.status;
  const status = st.total > 0 ? `${shown} (${st.done}/${st.total} jobs)` : shown;
  const meta = { title: task?.title, description: task?.description, runDir, status, spec, env };
  const html = join(runDir, RUN_FILES.report);
  const markdown = join(runDir, RUN_FILES.summary);
  writeTextAtomic(html, await renderReport(results, meta));
  writeTextAtomic(markdown, renderSummary(results, meta));
  return { html, markdown };
}
