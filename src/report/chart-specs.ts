/** Vega-Lite specs for the report's charts: bars with CI whiskers, label sweeps with CI bands, training curves. */
import type { TopLevelSpec } from "vega-lite";
import type { BarChart, SweepChart } from "../tasks/task.js";
import type { CurvePoint } from "./curves.js";

type Colors = Record<string, string>;
const INK = "#111827";
const finite = (x: number): boolean => typeof x === "number" && Number.isFinite(x);

function colorEncoding(colors: Colors, legend: boolean) {
  return {
    field: "arm",
    type: "nominal" as const,
    scale: { domain: Object.keys(colors), range: Object.values(colors) },
    // Explicit symbol style: layers (band + line + points) would otherwise blend into a faded legend symbol.
    legend: legend
      ? {
          title: "arm",
          orient: "bottom" as const,
          direction: "horizontal" as const,
          columns: 3, // wrap rather than run off the chart's right edge
          labelLimit: 240,
          symbolType: "circle",
          symbolOpacity: 1,
        }
      : null,
  };
}

/** Bars (mean) + whiskers (95% CI) + dots (per-seed values); grouped by `group` when bars carry one. */
export function barSpec(chart: BarChart, colors: Colors): TopLevelSpec {
  const arms = [...new Set(chart.bars.map((b) => b.arm))];
  const grouped = chart.bars.some((b) => b.group !== undefined);
  const rows = chart.bars
    .filter((b) => finite(b.mean))
    .map((b) => ({
      arm: b.arm,
      group: b.group ?? "",
      mean: b.mean,
      lo: finite(b.lo) ? b.lo : b.mean,
      hi: finite(b.hi) ? b.hi : b.mean,
    }));
  const dots = chart.bars.flatMap((b) =>
    (b.values ?? []).filter(finite).map((v) => ({ arm: b.arm, group: b.group ?? "", value: v })),
  );
  const groups = [...new Set(chart.bars.map((b) => b.group ?? ""))];
  const x = grouped
    ? { field: "group", type: "nominal" as const, sort: groups, axis: { labelAngle: 0, title: null } }
    : { field: "arm", type: "nominal" as const, sort: arms, axis: { labelAngle: 0, title: null } };
  const xOffset = grouped ? { xOffset: { field: "arm", type: "nominal" as const, sort: arms } } : {};
  // The axis gets the short metric name; the full yLabel goes in the caption (a long rotated title stretches the chart).
  const yTitle = chart.metric;
  const layers: unknown[] = [
    {
      data: { values: rows },
      mark: { type: "bar", cornerRadiusEnd: 2, opacity: 0.9 },
      encoding: {
        x,
        ...xOffset,
        y: { field: "mean", type: "quantitative", title: yTitle },
        color: colorEncoding(colors, grouped),
      },
    },
    {
      data: { values: rows },
      mark: { type: "rule", color: INK, strokeWidth: 1.5 },
      encoding: { x, ...xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
    },
    ...["lo", "hi"].map((f) => ({
      data: { values: rows },
      mark: { type: "tick", color: INK, thickness: 1.5, size: 8 },
      encoding: { x, ...xOffset, y: { field: f, type: "quantitative" } },
    })),
    {
      data: { values: rows },
      mark: { type: "text", dy: -6, baseline: "bottom", fontSize: 11, color: INK },
      encoding: {
        x,
        ...xOffset,
        y: { field: "hi", type: "quantitative" },
        text: { field: "mean", type: "quantitative", format: ".3~f" },
      },
    },
  ];
  if (dots.length > 0) {
    layers.push({
      data: { values: dots },
      mark: { type: "circle", size: 18, color: INK, opacity: 0.35 },
      encoding: { x, ...xOffset, y: { field: "value", type: "quantitative" } },
    });
  }
  const width = grouped
    ? Math.max(220, groups.length * arms.length * 34 + groups.length * 20)
    : Math.max(220, arms.length * 90);
  return { width, height: 230, layer: layers } as TopLevelSpec;
}

/** Mean per arm over the label sweep as lines with points, and the 95% CI as a shaded band. */
export function sweepSpec(chart: SweepChart, colors: Colors): TopLevelSpec {
  const labels = chart.xLabels;
  const rows = chart.points
    .filter((p) => finite(p.mean))
    .map((p) => ({
      arm: p.arm,
      x: labels ? (labels[p.x] ?? String(p.x)) : p.x,
      xi: p.x,
      mean: p.mean,
      lo: finite(p.lo) ? p.lo : p.mean,
      hi: finite(p.hi) ? p.hi : p.mean,
    }));
  const x = labels
    ? { field: "x", type: "ordinal" as const, sort: labels, title: chart.xLabel, axis: { labelAngle: -30 } }
    : { field: "x", type: "quantitative" as const, title: chart.xLabel, scale: { zero: false, nice: false } };
  return {
    width: 420,
    height: 240,
    data: { values: rows },
    layer: [
      {
        mark: { type: "area", opacity: 0.14 },
        encoding: {
          x,
          y: { field: "lo", type: "quantitative", title: chart.metric },
          y2: { field: "hi" },
          color: colorEncoding(colors, true),
        },
      },
      {
        mark: { type: "line", point: { filled: true, size: 36 }, strokeWidth: 2 },
        encoding: { x, y: { field: "mean", type: "quantitative" }, color: colorEncoding(colors, true) },
      },
    ],
  } as TopLevelSpec;
}

/** One field's training curves: a small panel per arm (shared y axis), one line per seed. */
export function curveSpec(field: string, points: CurvePoint[], arms: string[], colors: Colors): TopLevelSpec {
  return {
    data: { values: points.map((p) => ({ arm: p.arm, seed: p.seed, step: p.step, value: p.value })) },
    facet: { field: "arm", type: "nominal", sort: arms, title: null },
    columns: 4,
    spec: {
      width: 200,
      height: 130,
      mark: { type: "line", strokeWidth: 1.3, opacity: 0.85 },
      encoding: {
        x: { field: "step", type: "quantitative", title: "step" },
        y: { field: "value", type: "quantitative", title: field, scale: { zero: false } },
        color: colorEncoding(colors, false),
        detail: { field: "seed", type: "nominal" },
      },
    },
  } as TopLevelSpec;
}
