/** A finished job's result.json is checked against its kind's schema when read: an edited one is named and re-run. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../src/run/progress.js";
import { writeRunReport } from "../../src/run/run-report.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";

test("resume with an eval result.json that breaks the kit's schema names the job and file and runs it again", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-badres-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\narms: [baseline, mst]\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "v.yaml") });
  await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  const before = readFileSync(join(dir, "results.json"), "utf8");
  writeFileSync(join(dir, "jobs", "eval-mst-b0-s0", "result.json"), "{}\n");
  const out = await resumeRun(dir, { progress: new NoProgress(), report: false, jobs: 2 });
  assert.equal(out.ran, 1, "only the damaged job runs again");
  const log = readFileSync(join(dir, "run.log"), "utf8");
  assert.match(
    log,
    /job eval-mst-b0-s0: jobs\/eval-mst-b0-s0\/result\.json does not match the result schema of "eval" jobs/,
  );
  assert.equal(readFileSync(join(dir, "results.json"), "utf8"), before, "the same results after the re-run");
  assert.match(before, /^\{\n {2}"format": "mst-results\/1",/);

  // a results.json of another format is refused by the report, naming the file and the field
  writeFileSync(join(dir, "results.json"), before.replace('"mst-results/1"', '"mst-results/9"'));
  await assert.rejects(writeRunReport(dir), (e: Error) => {
    assert.match(e.message, /results\.json/);
    assert.match(e.message, /format/);
    return true;
  });
});
