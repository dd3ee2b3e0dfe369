/** The sycophancy task with `trainer: grpo` through the runner (micro preset): GRPO trains every arm, adapters saved. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../../src/run/spec.js";
import { readMetrics } from "../../../src/train/metrics-log.js";
import type { TaskResults } from "../../../src/experiment/task.js";

test("micro preset with trainer: grpo runs end to end: G completions per prompt, no value head, same steps per arm", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "mst-syc-grpo-")), "run");
  const text =
    "task: sycophancy\npreset: micro\narms: [baseline, mst]\nseeds: [0]\nbaseSeeds: [0]\noverrides:\n  trainer: grpo\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "micro-grpo.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  // base + eval-base + 2 GRPO runs + 2 evaluations
  assert.equal(out.ran, 6);
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
  assert.ok(
    results.findings.some((f) => f.includes("same number of GRPO steps (3)")),
    results.findings.join("\n"),
  );
  for (const arm of ["baseline", "mst"]) {
    const job = join(dir, "jobs", `train-${arm}-b0-s0`);
    assert.ok(existsSync(join(job, "adapter", "adapter_model.safetensors")), `${arm}: adapter saved`);
    const ms = readMetrics(join(job, "train", "metrics.jsonl"));
    assert.equal(ms.length, 3);
    // GRPO's own metrics, and none of PPO's critic
    assert.ok(ms.every((m) => typeof m.frac_reward_zero_std === "number" && !("value_loss" in m)));
    const state = JSON.parse(readFileSync(join(job, "train", "checkpoints", "step-000003", "state.json"), "utf8")) as {
      meta: { trainer: string; config: { numGenerations: number; batchSize: number } };
    };
    assert.equal(state.meta.trainer, "grpo");
    assert.equal(state.meta.config.numGenerations, 4);
    assert.equal(state.meta.config.batchSize, 16);
  }
});
