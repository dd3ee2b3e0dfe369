/** A micro end-to-end run of the political-bias task through the runner: judge check, base + gate, LoRA SFT per arm, evaluation, summary. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../../src/run/spec.js";
import type { TaskResults } from "../../../src/experiment/task.js";
import { PoliticalBiasConfigSchema } from "../../../src/tasks/political-bias/config.js";
import { topicSplit } from "../../../src/tasks/political-bias/setup.js";

test("quick preset runs end to end through the runner on unseen test topics", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-pb-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = "task: political-bias\npreset: quick\nseeds: [0]\nbaseSeeds: [0]\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "quick.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  // judge check + base + 3 SFT runs (prompt-only reuses the baseline) + 4 evaluations
  assert.equal(out.ran, 9);
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
  assert.equal(results.task, "political-bias");
  // A micro model may write nothing judgeable: such arms have no bar but are listed, with their unscored count.
  const arms = results.tables.find((t) => t.title.startsWith("Condition main: arms"))!;
  assert.deepEqual(
    arms.rows.map((r) => r[0]),
    ["baseline", "mst", "shuffled", "prompt-only"],
  );
  for (const b of results.bars.find((x) => x.id === "bias")!.bars) assert.ok(b.mean >= 0 && b.mean <= 10);
  assert.deepEqual(results.sweeps[0].xLabels?.length, 6);
  assert.ok(results.tables[0].title.startsWith("Base gate"));
  assert.ok(results.seedComparison.some((r) => r.seed === "-53.9%"));
  assert.ok(results.findings.some((f) => f.startsWith("Judge check")));
  assert.ok(existsSync(join(dir, "jobs", "sft-main-mst-b0-s0", "adapter", "adapter_model.safetensors")));

  const sft = JSON.parse(readFileSync(join(dir, "jobs", "sft-main-mst-b0-s0", "result.json"), "utf8"));
  assert.equal(sft.labelMatchesTrueProfile, sft.samples, "MST labels are the true profiles");
  const base = JSON.parse(readFileSync(join(dir, "jobs", "sft-main-baseline-b0-s0", "result.json"), "utf8"));
  assert.equal(base.labelled, 0, "the baseline trains without labels");

  const cfg = PoliticalBiasConfigSchema.parse(resolved.config);
  const split = topicSplit(cfg);
  const trainIds = new Set(split.train.map((t) => t.id));
  for (const arm of ["baseline", "mst"]) {
    const ev = JSON.parse(readFileSync(join(dir, "jobs", `eval-main-${arm}-b0-s0`, "result.json"), "utf8"));
    assert.equal(ev.mainLabel, arm === "baseline" ? "none" : "unbiased");
    assert.equal(ev.topics.length, 8);
    for (const id of ev.topics) assert.ok(!trainIds.has(id), `eval topic ${id} is a training topic`);
  }
});
