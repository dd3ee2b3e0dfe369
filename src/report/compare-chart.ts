/** Vega-Lite specs of `mst compare`: bars with x = arm and one bar per run (95% CI whiskers); sweeps per arm and run. */
import type { TopLevelSpec } from "vega-lite";
import type { BarChart, SweepChart } from "../experiment/results.js";
import { barAxis, barKey } from "./chart-specs.js";

const INK = "#111827";
const finite = (x: number): boolean => typeof x === "number" && Number.isFinite(x);

export { barKey };

/** One run's version of a chart (the same chart id in each run's results.json). */
export interface RunBars {
  run: string;
  chart: BarChart;
}

/**
 * Grouped bars: one slot per arm (in order of first appearance across the runs), one bar per run inside it, in the
 * runs' order. Each run keeps its colour in every chart of the page; the legend names the runs.
 */
export function compareBarSpec(charts: readonly RunBars[], colors: Record<string, string>): TopLevelSpec {
  const keys = [...new Set(charts.flatMap((c) => c.chart.bars.map(barKey)))];
  const runs = Object.keys(colors);
  const rows = charts.flatMap(({ run, chart }) =>
    chart.bars
      .filter((b) => finite(b.mean))
      .map((b) => ({
        run,
        key: barKey(b),
        mean: b.mean,
        lo: finite(b.lo) ? b.lo : b.mean,
        hi: finite(b.hi) ? b.hi : b.mean,
      })),
  );
  const dots = charts.flatMap(({ run, chart }) =>
    chart.bars.flatMap((b) => (b.values ?? []).filter(finite).map((v) => ({ run, key: barKey(b), value: v }))),
  );
  const x = barAxis(keys);
  // the offset scale is shared by every layer, so a run's whisker and dots sit on its own bar
  const xOffset = { field: "run", type: "nominal" as const, sort: runs, scale: { domain: runs } };
  const layers: unknown[] = [
    {
      data: { values: rows },
      mark: { type: "bar", cornerRadiusEnd: 2, opacity: 0.9 },
      encoding: {
        x,
        xOffset,
        y: { field: "mean", type: "quantitative", title: charts[0]?.chart.metric ?? "" },
        color: {
          field: "run",
          type: "nominal" as const,
          scale: { domain: runs, range: runs.map((r) => colors[r]) },
          legend: {
            title: "run",
            orient: "bottom" as const,
            direction: "horizontal" as const,
            columns: 2,
            labelLimit: 320,
            symbolType: "square",
            symbolOpacity: 1,
          },
        },
      },
    },
    {
      data: { values: rows },
      mark: { type: "rule", color: INK, strokeWidth: 1.3 },
      encoding: { x, xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
    },
  ];
  if (dots.length > 0) {
    layers.push({
      data: { values: dots },
      mark: { type: "circle", size: 12, color: INK, opacity: 0.3 },
      encoding: { x, xOffset, y: { field: "value", type: "quantitative" } },
    });
  }
  // each arm slot is wide enough for every run's bar (~16 px) plus a gap
  const width = Math.max(260, keys.length * (runs.length * 16 + 22));
  return { width, height: 240, layer: layers } as TopLevelSpec;
}

/** One run's version of a label sweep. */
export interface RunSweep {
  run: string;
  chart: SweepChart;
}

/**
 * A label sweep across runs: one small panel per arm (shared axes), one line per run, so an ablation's effect on how
 * an arm generalises across labels (e.g. down to a held-out 0%) reads off one figure. No CI bands: with several runs
 * per panel they would cover each other; the values table and each run's own report have them.
 */
export function compareSweepSpec(
  sweeps: readonly RunSweep[],
  arms: readonly string[],
  colors: Record<string, string>,
): TopLevelSpec {
  const first = sweeps[0]?.chart;
  const labels = first?.xLabels;
  const runs = Object.keys(colors);
  const rows = sweeps.flatMap(({ run, chart }) =>
    chart.points
      .filter((p) => finite(p.mean))
      .map((p) => ({ run, arm: p.arm, x: chart.xLabels ? (chart.xLabels[p.x] ?? String(p.x)) : p.x, mean: p.mean })),
  );
  const x = labels
    ? { field: "x", type: "ordinal" as const, sort: labels, title: first?.xLabel, axis: { labelAngle: -30 } }
    : { field: "x", type: "quantitative" as const, title: first?.xLabel, scale: { zero: false, nice: false } };
  return {
    data: { values: rows },
    facet: { field: "arm", type: "nominal", sort: [...arms], title: null },
    columns: 4,
    spec: {
      width: 190,
      height: 150,
      mark: { type: "line", point: { filled: true, size: 24 }, strokeWidth: 1.8 },
      encoding: {
        x,
        y: { field: "mean", type: "quantitative", title: first?.metric ?? "" },
        color: {
          field: "run",
          type: "nominal" as const,
          scale: { domain: runs, range: runs.map((r) => colors[r]) },
          legend: { title: "run", orient: "bottom" as const, direction: "horizontal" as const, labelLimit: 320 },
        },
      },
    },
  } as TopLevelSpec;
}
