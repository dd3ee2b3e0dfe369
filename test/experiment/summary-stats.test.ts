/** Statistics a reader can trust: no CI from one run, rate CIs inside [0, 1], count CIs at or above 0. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { meanMetric } from "../../src/eval/metric.js";
import { estimate, rangeOf } from "../../src/experiment/summary.js";
import { renderSummary } from "../../src/report/summary-md.js";
import type { TaskResults } from "../../src/experiment/task.js";

const judged = (xs: number[]) => xs.map((x) => ({ score: x, grade: null, rationale: "" }));

test("a rate's item CI is clipped to [0, 1]", () => {
  const raw = meanMetric({ name: "r" }).compute(judged([0, 0, 0, 0, 1]));
  assert.ok(raw.lo < 0, "the unclipped Student-t interval leaves [0, 1]");
  const rate = meanMetric({ name: "r", range: [0, 1] }).compute(judged([0, 0, 0, 0, 1]));
  assert.equal(rate.lo, 0);
  assert.ok(rate.hi <= 1);
  const high = meanMetric({ name: "r", range: [0, 1] }).compute(judged([1, 1, 1, 1, 0]));
  assert.equal(high.hi, 1);
  assert.equal(high.mean, 0.8);
});

test("over runs: a share's CI stays in [0, 1], a count's at or above 0, a signed value is left alone", () => {
  const share = estimate([0.02, 0.3], rangeOf({ key: "s", title: "s", lowerIsBetter: true, share: true }));
  assert.equal(share.lo, 0);
  const count = estimate([1, 9], rangeOf({ key: "c", title: "c", lowerIsBetter: true, count: true }));
  assert.equal(count.lo, 0);
  assert.ok(count.hi > 9);
  const signed = estimate([-1, 1], rangeOf({ key: "l", title: "l", lowerIsBetter: false, signed: true }));
  assert.ok(signed.lo < -1 && signed.hi > 1);
});

test("the markdown summary prints no CI for an arm with one run", () => {
  const results: TaskResults = {
    task: "t",
    preset: "p",
    headline: {},
    findings: [],
    bars: [
      {
        id: "bar-x",
        title: "x",
        metric: "x",
        yLabel: "x",
        bars: [
          { arm: "mst", mean: 0.5, lo: 0.5, hi: 0.5, n: 1 },
          { arm: "baseline", mean: 0.4, lo: 0.3, hi: 0.5, n: 3 },
        ],
      },
    ],
    sweeps: [],
    curves: [],
    samples: [],
    seedComparison: [],
    tables: [],
  };
  const md = renderSummary(results);
  assert.match(md, /\| mst \| 0\.5\d* \| none \(n=1\) \| 1 \|/);
  assert.match(md, /\| baseline \| 0\.4\d* \| \[0\.3\d*, 0\.5\d*\] \| 3 \|/);
});
