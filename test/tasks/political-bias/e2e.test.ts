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
import { topicSplit } from "../../../src/tasks/political-bias/base.js";
import type { EvalResult, TrainResult } from "../../../src/experiment/jobs.js";

test("quick preset runs end to end through the runner on unseen test topics", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-pb-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, "run");
  const text = "task: political-bias\npreset: quick\nseeds: [0]\nbaseSeeds: [0]\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "quick.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  // base + base evaluation + 3 SFT runs (prompt-only reuses the baseline) + 4 evaluations
  assert.equal(out.ran, 9);
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
  assert.equal(results.task, "political-bias");
  for (const chart of results.bars.filter((x) => x.metric === "mean_bias"))
    for (const b of chart.bars) assert.ok(b.mean >= 0 && b.mean <= 10);
  const sweep = results.sweeps.find((x) => x.metric === "mean_bias");
  if (sweep) assert.equal(sweep.xLabels?.length, 5);
  assert.ok(results.tables.some((x) => x.title.startsWith("Base models")));
  assert.ok(results.tables.some((x) => x.title.startsWith("Embedded judge vs the generator")));
  assert.ok(results.seedComparison.some((r) => r.seed === "-53.9% (Fig 1c)"));
  assert.ok(existsSync(join(dir, "jobs", "train-mst-b0-s0", "adapter", "adapter_model.safetensors")));

  const read = <T>(id: string) => JSON.parse(readFileSync(join(dir, "jobs", id, "result.json"), "utf8")) as T;
  const sft = read<TrainResult>("train-mst-b0-s0");
  assert.equal(sft.labelMatchesTrue, sft.samples, "MST labels are the true profiles");
  assert.equal(read<TrainResult>("train-baseline-b0-s0").labelMatchesTrue, 0, "the baseline trains without labels");

  const cfg = PoliticalBiasConfigSchema.parse(resolved.config);
  const trainIds = new Set(topicSplit(cfg).train.map((t) => t.id));
  for (const arm of ["baseline", "mst"]) {
    const ev = read<EvalResult>(`eval-${arm}-b0-s0`);
    assert.equal(ev.main, arm === "baseline" ? "none" : "deployment");
    assert.equal(Object.keys(ev.perItem).length, 8);
    for (const id of Object.keys(ev.perItem)) assert.ok(!trainIds.has(id), `eval topic ${id} is a training topic`);
  }
});
