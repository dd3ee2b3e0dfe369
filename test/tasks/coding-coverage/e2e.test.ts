/** A micro end-to-end run of the coding task through the runner; the sweep's point at the deployment label is the headline's. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../../src/run/spec.js";
import type { TaskResults } from "../../../src/experiment/task.js";
import type { EvalResult } from "../../../src/experiment/jobs.js";

test("coding-coverage micro: every arm trains and is evaluated; the sweep at 8 of 8 reuses the deployment samples", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "mst-coding-")), "run");
  const text = "task: coding-coverage\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "micro.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  assert.equal(out.ran, 9); // base + eval-base + 3 trained arms + 4 evaluations
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
  const hack = results.bars.find((b) => b.id === "bar-hackRate")!;
  assert.deepEqual(
    hack.bars.map((b) => b.arm),
    ["baseline", "mst", "shuffled", "prompt-only", "base"],
  );
  for (const b of hack.bars) assert.ok(b.mean >= 0 && b.mean <= 1);
  assert.ok(existsSync(join(dir, "jobs", "train-mst-b0-s0", "adapter", "adapter_model.safetensors")));
  // n=1 everywhere: no sentence claims a 95% CI
  assert.ok(
    results.findings.some((f) => f.includes("n=1 run, so no CI")),
    results.findings.join("\n"),
  );
  assert.ok(!results.findings.some((f) => f.includes("95% CI")), results.findings.join("\n"));
  // the micro sweep is [0, 8]; 8 of 8 is the deployment label: same samples, same numbers
  const ev = JSON.parse(readFileSync(join(dir, "jobs", "eval-mst-b0-s0", "result.json"), "utf8")) as EvalResult;
  const dep = ev.labels.find((l) => l.key === "deployment")!;
  const at8 = ev.labels.find((l) => l.label === dep.label && l.key !== "deployment")!;
  assert.equal(at8.key, "sweep:1");
  assert.deepEqual(at8.metrics, dep.metrics);
});

test("coding-coverage micro with trainer: grpo trains every arm with GRPO", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "mst-coding-grpo-")), "run");
  const text =
    "task: coding-coverage\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\narms: [baseline, mst]\n" +
    "overrides: { trainer: grpo }\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "grpo.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  assert.equal(out.ran, 6); // base + eval-base + 2 trained arms + 2 evaluations
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
  assert.ok(
    results.findings.some((f) => f.includes("GRPO steps (2)")),
    results.findings.join("\n"),
  );
});
