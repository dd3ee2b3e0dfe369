/** `mst runs` statuses say what is true: running (a live lock), partial, every job done but no summary, complete. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listRuns } from "../../src/run/list-runs.js";
import { NoProgress } from "../../src/run/progress.js";
import { acquireRunLock } from "../../src/run/run-lock.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { TOY_TASK } from "../fixtures/toy-task.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const quiet = { progress: new NoProgress(), report: false, jobs: 2 };
const root = mkdtempSync(join(tmpdir(), "mst-runs-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

const statusColumn = (): string => {
  const r = spawnSync(process.execPath, [CLI, "runs", root], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n")[1] ?? "";
};

test("a run whose summary crashed is not 'partial 5/5'; a live lock reads as running; resume completes it", async () => {
  const text = `task: ${JSON.stringify(TOY_TASK)}\npreset: quick\narms: [baseline, mst]\nseeds: [0]\noverrides: { failSummary: true }\n`;
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "test.yaml") });
  const dir = join(root, "run");
  await assert.rejects(startRun(resolved, dir, quiet), /summarizing the job results failed: toy summary failed/);
  let [row] = await listRuns(root);
  assert.deepEqual([row.status, row.done, row.total], ["unsummarized", 5, 5]);
  assert.match(statusColumn(), /jobs 5\/5, no results\.json/);

  // someone works in the run (the runner's own lock, held by this process): running, whatever the counts say
  const lock = acquireRunLock(dir);
  [row] = await listRuns(root);
  assert.deepEqual([row.status, row.done], ["running", 5]);
  assert.match(statusColumn(), /running 5\/5/);
  lock.release();

  // a job lost: partial; then fix the summary and resume: complete
  rmSync(join(dir, "jobs", "eval-mst-b0-s0", "result.json"));
  [row] = await listRuns(root);
  assert.deepEqual([row.status, row.done], ["partial", 4]);
  assert.match(statusColumn(), /partial 4\/5/);
  const specFile = join(dir, "spec.resolved.json");
  const stored = JSON.parse(readFileSync(specFile, "utf8")) as { config: Record<string, unknown> };
  stored.config.failSummary = false;
  writeFileSync(specFile, JSON.stringify(stored));
  await resumeRun(dir, quiet);
  [row] = await listRuns(root);
  assert.equal(row.status, "complete");
  assert.match(statusColumn(), /complete/);
});
