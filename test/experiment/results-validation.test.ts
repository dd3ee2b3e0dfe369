/** A finished job's result.json is checked when read: an edited one names its job and file on resume or report. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../src/run/progress.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";

test("resume with a corrupted eval result.json fails naming the job and the file", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-badres-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\narms: [baseline, mst]\n";
  const { resolved } = resolveSpec({ spec: parseSpec(text, "v.yaml") });
  await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  const file = join(dir, "jobs", "eval-mst-b0-s0", "result.json");
  writeFileSync(file, "{}\n");
  await assert.rejects(resumeRun(dir, { progress: new NoProgress(), report: false, jobs: 2 }), (e: Error) => {
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, /job eval-mst-b0-s0: result does not match the eval result schema/);
    return true;
  });
});
