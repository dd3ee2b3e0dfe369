/** Renders a Vega-Lite spec to an SVG string on the server (no browser, no canvas): compile, headless View, toSVG. */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Shared look: system fonts only (the report must not fetch any), quiet grid, readable sizes. */
export const CHART_CONFIG = {
  font: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  background: "#ffffff",
  view: { stroke: null },
  axis: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 600, gridColor: "#e5e7eb", domainColor: "#9ca3af" },
  legend: { labelFontSize: 12, titleFontSize: 12 },
  header: { labelFontSize: 13, labelFontWeight: 600, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

/** SVG markup of `spec` (no XML prolog, ready to inline in HTML). */
export async function vegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile({ config: CHART_CONFIG, ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
