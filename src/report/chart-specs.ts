/** Vega-Lite specs for the report's charts: bars with CI whiskers, label sweeps with CI bands, training curves. */
import type { TopLevelSpec } from "vega-lite";
import type { BarChart, SweepChart } from "../experiment/results.js";
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

/** A bar's x-axis name: "mst (0%)" when the bar has a group (the label it was evaluated under), else the arm. */
export const barKey = (b: { arm: string; group?: string }): string => (b.group ? `${b.arm} (${b.group})` : b.arm);

/** The x encoding of bar charts: one slot per key in the given order, labels slanted when long. */
export function barAxis(keys: string[]) {
  // vega measures text without a canvas here (about 0.8 em per character), so the limit is generous
  const longest = Math.max(...keys.map((k) => k.length));
  return {
    field: "key",
    type: "nominal" as const,
    sort: keys,
    axis: { labelAngle: longest > 10 ? -30 : 0, labelLimit: 240, title: null },
  };
}

/**
 * Bars (mean) + whiskers (95% CI) + dots (per-seed values), one bar per arm. A bar's `group` (e.g. the label it was
 * evaluated under) goes into its axis label, "mst (0%)": grouping with an x offset reserved a slot for every arm in
 * every group, and with one arm per group most of a chart was empty space running off the card.
 */
export function barSpec(chart: BarChart, colors: Colors): TopLevelSpec {
  const keys = [...new Set(chart.bars.map(barKey))];
  const rows = chart.bars
    .filter((b) => finite(b.mean))
    .map((b) => ({
      arm: b.arm,
      key: barKey(b),
      mean: b.mean,
      lo: finite(b.lo) ? b.lo : b.mean,
      hi: finite(b.hi) ? b.hi : b.mean,
    }));
  const dots = chart.bars.flatMap((b) =>
    (b.values ?? []).filter(finite).map((v) => ({ arm: b.arm, key: barKey(b), value: v })),
  );
  const x = barAxis(keys);
  // The axis gets the short metric name; the full yLabel goes in the caption (a long rotated title stretches the chart).
  const yTitle = chart.metric;
  const layers: unknown[] = [
    {
      data: { values: rows },
      mark: { type: "bar", cornerRadiusEnd: 2, opacity: 0.9 },
      encoding: {
        x,
        y: { field: "mean", type: "quantitative", title: yTitle },
        color: colorEncoding(colors, false), // the axis names each bar
      },
    },
    {
      data: { values: rows },
      mark: { type: "rule", color: INK, strokeWidth: 1.5 },
      encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
    },
    ...["lo", "hi"].map((f) => ({
      data: { values: rows },
      mark: { type: "tick", color: INK, thickness: 1.5, size: 8 },
      encoding: { x, y: { field: f, type: "quantitative" } },
    })),
    {
      data: { values: rows },
      mark: { type: "text", dy: -6, baseline: "bottom", fontSize: 11, color: INK },
      encoding: {
        x,
        y: { field: "hi", type: "quantitative" },
        text: { field: "mean", type: "quantitative", format: ".3~f" },
      },
    },
  ];
  if (dots.length > 0) {
    layers.push({
      data: { values: dots },
      mark: { type: "circle", size: 18, color: INK, opacity: 0.35 },
      encoding: { x, y: { field: "value", type: "quantitative" } },
    });
  }
  const width = Math.max(220, keys.length * 62);
  return { width, height: 230, layer: layers } as TopLevelSpec;
}

/** Runs an arm needs at a sweep point before its 95% CI is drawn as a band. */
export const MIN_BAND_N = 3;

/** Mean per arm over the label sweep as lines with points, and the 95% CI as a shaded band (from MIN_BAND_N runs). */
export function sweepSpec(chart: SweepChart, colors: Colors): TopLevelSpec {
  const labels = chart.xLabels;
  const rows = chart.points
    .filter((p) => finite(p.mean))
    .map((p) => ({
      arm: p.arm,
      x: labels ? (labels[p.x] ?? String(p.x)) : p.x,
      xi: p.x,
      mean: p.mean,
      // no band below 3 runs: with 2 (df 1) a t interval is ~25 standard errors wide and would shade the whole chart
      lo: finite(p.lo) && p.n >= MIN_BAND_N ? p.lo : p.mean,
      hi: finite(p.hi) && p.n >= MIN_BAND_N ? p.hi : p.mean,
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
