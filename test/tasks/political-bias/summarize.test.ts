/** Tests the political-bias gate verdict and the summary's arithmetic (reductions, paired win rates, shares) on hand-made job results. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Json } from "../../../src/data/sample.js";
import { PoliticalBiasConfigSchema } from "../../../src/tasks/political-bias/config.js";
import type { LabelSummary } from "../../../src/tasks/political-bias/evaluate.js";
import { gateVerdict } from "../../../src/tasks/political-bias/job-base.js";
import { planPoliticalBias } from "../../../src/tasks/political-bias/plan.js";
import { summarizePoliticalBias } from "../../../src/tasks/political-bias/summarize.js";

const cfg = PoliticalBiasConfigSchema.parse({});
const sum = (meanLean: number, meanBias = Math.abs(meanLean), n = 10, grades = [10, 0, 0]): LabelSummary => ({
  n,
  unscored: 0,
  meanBias,
  meanLean,
  pass: grades[0],
  partial: grades[1],
  fail: grades[2],
});

test("gate: monotone and strong enough passes; a weak mild label or a tilted unbiased label fails", () => {
  const good = {
    strong_left: sum(-9),
    center_left: sum(-3),
    unbiased: sum(0.2),
    center_right: sum(3),
    strong_right: sum(9),
  };
  assert.equal(gateVerdict("main", good, cfg.gate).pass, true);
  const weakMild = { ...good, center_left: sum(-1) };
  const v = gateVerdict("main", weakMild, cfg.gate);
  assert.equal(v.monotone, true);
  assert.equal(v.mildClear, false);
  assert.equal(v.pass, false);
  const tilted = gateVerdict("main", { ...good, unbiased: sum(2) }, cfg.gate);
  assert.equal(tilted.deploymentBalanced, false);
  const crossed = gateVerdict("main", { ...good, center_left: sum(0.5) }, cfg.gate);
  assert.equal(crossed.monotone, false);
});

test("summary: % reduction, per-topic win rates, grade shares and the seed comparison come from the results", () => {
  const input = { arms: ["baseline", "mst", "shuffled"], seeds: [0], baseSeeds: [0, 1] };
  const jobs = planPoliticalBias(cfg, input);
  const results: Record<string, Json> = {};
  const evalOf = (arm: string, b: number, bias: number[], grades: number[]): Json => ({
    arm,
    base: b,
    seed: 0,
    mainLabel: arm === "baseline" ? "none" : "unbiased",
    main: sum(0, bias.reduce((a, x) => a + x, 0) / bias.length, 4, grades) as unknown as Json,
    topics: ["t1", "t2", "t3", "t4"],
    perTopicBias: bias,
    sweep: {},
    closings: [],
  });
  for (const b of [0, 1]) {
    results[`eval-main-baseline-b${b}-s0`] = evalOf("baseline", b, [8, 8, 6, 6], [0, 2, 2]);
    results[`eval-main-mst-b${b}-s0`] = evalOf("mst", b, [2, 2, 4, 8], [2, 1, 1]);
    results[`eval-main-shuffled-b${b}-s0`] = evalOf("shuffled", b, [4, 4, 4, 4], [0, 4, 0]);
  }
  const r = summarizePoliticalBias(cfg, input, jobs, results, "embedded");
  // baseline 7, mst 4, shuffled 4: -42.9% vs baseline, 0% vs shuffled (not a reduction).
  assert.ok(Math.abs(r.headline["% bias reduction mst vs baseline (main)"] - (100 * 3) / 7) < 1e-9);
  assert.equal(r.headline["% bias reduction mst vs shuffled (main)"], 0);
  assert.ok(r.findings.some((f) => f.includes("MST did NOT reduce bias against the shuffled control")));
  const wins = r.tables.find((t) => t.title.includes("win rates"))!;
  // vs baseline: topics 1-3 won, 4 lost -> 75%; vs shuffled: 2 won, 1 tie (half), 1 lost -> 62.5%.
  assert.deepEqual(
    wins.rows.map((row) => [row[0], row[1]]),
    [
      ["mst vs baseline", "75.0%"],
      ["mst vs shuffled", "62.5%"],
    ],
  );
  const arms = r.tables.find((t) => t.title.startsWith("Condition main: arms"))!;
  assert.deepEqual(arms.rows[0].slice(3, 6), ["0.0%", "50.0%", "50.0%"]);
  const fail = r.seedComparison.find((c) => c.quantity.startsWith("FAIL share"))!;
  assert.equal(fail.ours, "50.0% / 0.0% / 25.0%");
  assert.ok(
    r.findings.some((f) => f.includes("job(s) have no result")),
    "missing base and SFT jobs are reported",
  );
});
