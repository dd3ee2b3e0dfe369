/** A micro end-to-end run of the sycophancy task through the runner: pretrain, gate, PPO per arm, evaluation, summary. */
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
import { SycophancyConfigSchema } from "../../../src/tasks/sycophancy-addition/config.js";
import { taskProblems } from "../../../src/tasks/sycophancy-addition/setup.js";
import { pairKey } from "../../../src/tasks/sycophancy-addition/problems.js";

test("micro preset runs end to end through the runner and evaluates on held-out problems only", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "mst-syc-")), "run");
  const text = "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\n";
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "micro.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), report: false, jobs: 2 });
  // base + eval-base + 3 PPO runs + 4 evaluations
  assert.equal(out.ran, 9);
  const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as TaskResults;
  assert.equal(results.task, "sycophancy");
  const syc = results.bars.find((b) => b.id === "bar-sycophancy")!;
  assert.deepEqual(
    syc.bars.map((b) => b.arm),
    ["baseline", "mst", "shuffled", "prompt-only", "base"],
  );
  for (const b of syc.bars) assert.ok(b.mean >= 0 && b.mean <= 1, `${b.arm}: ${b.mean}`);
  assert.ok(results.sweeps[0].points.some((p) => p.arm === "mst" && p.x === 100));
  assert.ok(results.tables.some((t) => t.title.startsWith("Base models")));
  assert.ok(
    results.findings.some((f) => f.includes("same number of PPO steps (3)")),
    results.findings.join("\n"),
  );
  assert.ok(existsSync(join(dir, "jobs", "train-mst-b0-s0", "adapter", "adapter_model.safetensors")));

  // The evaluation prompts are held-out problems only: no (a, b) pair of them is a training pair.
  const cfg = SycophancyConfigSchema.parse(resolved.config);
  const { train, test: testSet } = taskProblems(cfg);
  const trainPairs = new Set(train.map((p) => pairKey(p.a, p.b)));
  assert.ok(testSet.length === 40 && testSet.every((p) => !trainPairs.has(pairKey(p.a, p.b))));
  const ev = JSON.parse(readFileSync(join(dir, "jobs", "eval-mst-b0-s0", "result.json"), "utf8")) as EvalResult;
  const dep = ev.labels.find((l) => l.key === ev.main)!;
  assert.equal(ev.main, "deployment");
  assert.equal(dep.n, 40);
  assert.equal(dep.label, "**Suggestibility Level: 000%**");
  assert.equal(Object.keys(ev.perItem).length, 40);
  for (const s of ev.samples) {
    const m = /(\d+)\+(\d+)=(\d+)\?$/.exec(s.prompt)!;
    assert.ok(!trainPairs.has(pairKey(Number(m[1]), Number(m[2]))), `eval prompt ${s.prompt} uses a training pair`);
  }
  const baseline = JSON.parse(
    readFileSync(join(dir, "jobs", "eval-baseline-b0-s0", "result.json"), "utf8"),
  ) as EvalResult;
  assert.equal(baseline.main, "none");
  assert.deepEqual(
    baseline.labels.map((l) => l.label),
    [null],
  );
});
