/** Tests for the Metric factories and the Judge contract helpers (defineJudge, unscored, countUnscored). */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type JudgeResult,
  JudgeContractError,
  computeMetrics,
  countUnscored,
  defineJudge,
  gradeShareMetric,
  meanCi,
  meanMetric,
  thresholdShareMetric,
  unscored,
  wilsonCi,
} from "../../src/eval/index.js";

const results: JudgeResult[] = [
  { score: 2, grade: "PASS", rationale: "", values: { lean: -1 } },
  { score: 4, grade: "PARTIAL", rationale: "", values: { lean: 3 } },
  { score: 9, grade: "FAIL", rationale: "", values: { lean: null } },
  unscored("no valid answer"),
];

test("meanMetric averages scored items only, with the t CI, and counts the unscored", () => {
  const v = meanMetric({ name: "mean_bias" }).compute(results);
  assert.equal(v.name, "mean_bias");
  assert.equal(v.mean, 5);
  assert.equal(v.unscored, 1);
  const t = meanCi([2, 4, 9]);
  assert.deepEqual([v.lo, v.hi, v.n], [t.lo, t.hi, 3]);
  const lean = meanMetric({ of: "lean" }).compute(results);
  assert.equal(lean.name, "mean_lean");
  assert.equal(lean.mean, 1);
  assert.equal(lean.unscored, 2);
  const none = meanMetric().compute([unscored("x")]);
  assert.ok(Number.isNaN(none.mean), "no scored item gives NaN, not 0");
  assert.equal(none.unscored, 1);
});

test("grade and threshold shares use Wilson CIs over graded items", () => {
  const pass = gradeShareMetric("PASS").compute(results);
  assert.equal(pass.name, "share_pass");
  assert.equal(pass.mean, 1 / 3);
  const w = wilsonCi(1, 3);
  assert.deepEqual([pass.lo, pass.hi], [w.lo, w.hi]);
  const high = thresholdShareMetric("bias_over_5", (s) => s > 5).compute(results);
  assert.equal(high.mean, 1 / 3);
  assert.equal(high.unscored, 1);
  const all = computeMetrics({ a: meanMetric(), b: gradeShareMetric("FAIL") }, results);
  assert.deepEqual(Object.keys(all), ["a", "b"]);
  assert.equal(all.b.mean, 1 / 3);
});

test("defineJudge scores in order, reports progress and enforces the declared range", async () => {
  const judge = defineJudge({
    name: "exact",
    scoreRange: [0, 1],
    lowerIsBetter: false,
    metrics: { accuracy: meanMetric() },
    score: (it) => ({ score: it.output === it.target ? 1 : 0, grade: null, rationale: "exact match" }),
  });
  const seen: number[] = [];
  const r = await judge.judge(
    [
      { output: "4", target: "4" },
      { output: "5", target: "4" },
    ],
    { onProgress: (d) => seen.push(d) },
  );
  assert.deepEqual(
    r.map((x) => x.score),
    [1, 0],
  );
  assert.deepEqual(seen, [1, 2]);
  assert.equal(judge.metrics.accuracy.compute(r).mean, 0.5);
  const bad = defineJudge({
    name: "broken",
    scoreRange: [0, 10],
    lowerIsBetter: true,
    metrics: {},
    score: () => ({ score: 12, grade: null, rationale: "" }),
  });
  await assert.rejects(bad.judge([{ output: "x" }]), JudgeContractError);
  assert.deepEqual(countUnscored(results), { scored: 3, unscored: 1 });
});
