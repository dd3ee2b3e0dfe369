/** renderReport on hand-made results: grouped bars, named sweep positions, missing values and curves, arm colours. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { armColors } from "../../src/report/palette.js";
import { expectedChartCount, renderReport } from "../../src/report/render-report.js";
import { TaskResultsSchema } from "../../src/report/results-schema.js";
import { renderSummary } from "../../src/report/summary-md.js";
import type { TaskResults } from "../../src/experiment/task.js";

const est = (mean: number, n = 3) => ({
  mean,
  lo: mean - 0.05,
  hi: mean + 0.05,
  n,
  values: [mean - 0.02, mean, mean + 0.02],
});

const RESULTS: TaskResults = {
  task: "hand-made",
  preset: "test",
  headline: { "bias mst": 1.25 },
  findings: ["MST <b>wins</b> & baseline loses"],
  bars: [
    {
      id: "bias",
      title: "Bias by condition",
      metric: "bias",
      yLabel: "bias (0-10)",
      lowerIsBetter: true,
      bars: [
        { arm: "baseline", group: "main", ...est(5) },
        { arm: "mst", group: "main", ...est(2) },
        { arm: "baseline", group: "stress", ...est(6) },
        { arm: "mst", group: "stress", mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n: 0 },
      ],
    },
  ],
  sweeps: [
    {
      id: "labels",
      title: "Every model under every label",
      metric: "lean",
      xLabel: "label",
      yLabel: "signed lean",
      xLabels: ["strong left", "center left", "unbiased", "center right", "strong right"],
      points: [0, 1, 2, 3, 4].flatMap((x) => [
        { arm: "baseline", x, ...est(0.5) },
        { arm: "mst", x, ...est(x - 2) },
      ]),
    },
  ],
  curves: [{ arm: "mst", seed: "s0", file: "jobs/none/metrics.jsonl", fields: ["loss"] }],
  samples: [
    {
      arm: "mst",
      seed: "s0",
      label: "unbiased",
      prompt: "<write>",
      output: "text",
      values: { bias: 1, grade: "PASS" },
    },
  ],
  seedComparison: [{ quantity: "bias reduction", seed: "-53.9%", ours: "-40%", verdict: "same direction" }],
  tables: [
    {
      title: "Per topic",
      columns: ["arm", "topic", "bias"],
      rows: [
        ["mst", "tax", 1.5],
        ["baseline", "tax", null],
      ],
    },
  ],
};

test("renders every chart as inline SVG, escapes text, notes missing curves, colours arms consistently", async () => {
  const html = await renderReport(RESULTS, { runDir: "/nonexistent", generatedAt: "fixed" });
  assert.equal((html.match(/<svg/g) ?? []).length, expectedChartCount(RESULTS));
  assert.equal(expectedChartCount(RESULTS), 3);
  assert.ok(html.includes("MST &lt;b&gt;wins&lt;/b&gt; &amp; baseline loses"));
  assert.ok(!html.includes("<b>wins</b>"));
  assert.match(html, /jobs\/none\/metrics\.jsonl: missing/);
  const colors = armColors(["baseline", "mst"]);
  // The standard arms keep their colour whatever the order, and it is used inside the charts.
  assert.equal(armColors(["mst", "baseline"]).mst, colors.mst);
  assert.ok(html.toLowerCase().includes(colors.mst.toLowerCase()));
  assert.ok(html.includes("strong left"), "named sweep positions label the x axis");
  // Rendering is deterministic given a fixed timestamp.
  assert.equal(await renderReport(RESULTS, { runDir: "/nonexistent", generatedAt: "fixed" }), html);
});

test("results.json round trip: NaN becomes null in JSON and reads back; the summary has a table per chart", () => {
  const back = TaskResultsSchema.parse(JSON.parse(JSON.stringify(RESULTS)));
  assert.ok(Number.isNaN(back.bars[0].bars[3].mean));
  assert.throws(() => TaskResultsSchema.parse({ ...RESULTS, bars: [{ id: 1 }] }));
  const md = renderSummary(back, { title: "Hand-made" });
  assert.match(md, /^# Hand-made — preset test/);
  assert.match(md, /\| group \| arm \| mean \| 95% CI \| n \|/);
  assert.match(md, /\| stress \| mst \| — \|/);
  assert.match(md, /\| unbiased \| 0\.5 \| 0 \|/);
});
