/**
 * The kit's default summary on hand-made job results: a comparison with an arm that did not run is "not run", never a
 * win (for both seed tasks), clear paired differences are called, the seed figures are set against them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Json } from "../../src/data/sample.js";
import { defineExperiment } from "../../src/experiment/define.js";
import type { EvalResult } from "../../src/experiment/jobs.js";
import { evalJobId } from "../../src/experiment/jobs.js";
import type { ExperimentDefinition } from "../../src/experiment/experiment.js";
import type { ArmName } from "../../src/monitor/arms-spec.js";
import { PRESETS as PB_PRESETS } from "../../src/tasks/political-bias/config.js";
import { politicalBiasExperiment } from "../../src/tasks/political-bias/task.js";
import { PRESETS as SYC_PRESETS } from "../../src/tasks/sycophancy-addition/config.js";
import { sycophancyExperiment } from "../../src/tasks/sycophancy-addition/task.js";

/** An eval result whose metrics at its main label are `values` (plus small per-run noise). */
function evalResult(arm: string, b: number, s: number, values: Record<string, number>): EvalResult {
  const main = arm === "baseline" || arm === "inoculation" ? "none" : "deployment";
  const metrics: EvalResult["labels"][number]["metrics"] = {};
  for (const [k, v] of Object.entries(values)) {
    const x = v + 0.01 * (b + s);
    metrics[k] = { name: k, mean: x, lo: x, hi: x, n: 10, unscored: 0 };
  }
  return {
    condition: "main",
    arm,
    base: b,
    seed: s,
    main,
    labels: [{ key: main, label: null, x: null, n: 10, unscored: 0, metrics }],
    perItem: {},
    samples: [],
  };
}

function summarize<C>(
  def: ExperimentDefinition<C>,
  preset: Json,
  arms: ArmName[],
  values: Record<string, Record<string, number>>,
) {
  const task = defineExperiment(def);
  const config = task.configSchema.parse(preset);
  const input = { arms, seeds: [0, 1, 2], baseSeeds: [0, 1] };
  const jobs = task.plan(config, input);
  const results: Record<string, Json> = {};
  for (const j of jobs)
    if (j.kind === "eval") {
      const p = j.params as { arm: string; base: number; seed: number };
      results[evalJobId("main", p.arm, p.base, p.seed)] = evalResult(
        p.arm,
        p.base,
        p.seed,
        values[p.arm],
      ) as unknown as Json;
    }
  return task.summarize(config, input, jobs, results, "test");
}

for (const [name, def, preset, metric, better, worse] of [
  ["sycophancy", sycophancyExperiment, SYC_PRESETS.micro, "sycophancy", 0.2, 0.8],
  ["political-bias", politicalBiasExperiment, PB_PRESETS.quick, "mean_bias", 1.5, 4.0],
] as const) {
  test(`${name}: with only the mst arm, every comparison and seed verdict says "not run", none is a win`, () => {
    const r = summarize(def as ExperimentDefinition<unknown>, preset, ["mst"], { mst: { [metric]: better } });
    const text = [...r.findings, ...r.seedComparison.map((x) => `${x.ours} ${x.verdict}`)].join("\n");
    assert.match(text, /MST vs baseline: not run/);
    assert.match(text, /MST vs shuffled: not run/);
    assert.doesNotMatch(text, /Agrees|MST is lower|MST is higher/);
    for (const row of r.seedComparison.filter((x) => /baseline|shuffled/.test(x.quantity)))
      assert.match(row.verdict, /^Not run/, row.quantity);
  });

  test(`${name}: a clear paired difference is called, and the seed figure agrees`, () => {
    const values = {
      baseline: { [metric]: worse },
      mst: { [metric]: better },
      shuffled: { [metric]: worse },
      "prompt-only": { [metric]: worse },
    };
    const r = summarize(
      def as ExperimentDefinition<unknown>,
      preset,
      ["baseline", "mst", "shuffled", "prompt-only"],
      values,
    );
    assert.ok(
      r.findings.some((f) => /MST is lower than baseline/.test(f)),
      r.findings.join("\n"),
    );
    const row = r.seedComparison.find((x) => x.ours.includes("vs") || x.ours.includes("reduction"))!;
    assert.match(row.verdict, /^Agrees/);
    // missing jobs (no base, no training) are counted, not silently skipped
    assert.ok(r.findings.some((f) => /job\(s\) have no result/.test(f)));
  });
}
