/** The kit's base job refuses a dead base (a collapse without NaN) with an error naming the job. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";

test("a base whose pretraining collapsed (lr 1e6: gradient norm 0) stops the run naming the job", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-dead-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const text =
    "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\narms: [mst]\noverrides:\n  pretrain:\n    lr: 1.0e+6\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "dead.yaml") });
  await assert.rejects(
    startRun(resolved, join(root, "run"), { progress: new NoProgress(), report: false, jobs: 1 }),
    /job base-b0: the base is dead: pretraining's gradient norm is 0/,
  );
});
