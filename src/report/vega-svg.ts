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

/**
 * Vega numbers clip-path ids from a process-wide counter; rename them `<prefix>-clip<k>` in order of appearance so
 * ids are unique within a page (one prefix per chart) and the same on every render.
 */
function renameClipIds(svg: string, prefix: string): string {
  const names = new Map<string, string>();
  return svg.replace(/(id="|url\(#)(clip\d+)/g, (_m, lead: string, id: string) => {
    if (!names.has(id)) names.set(id, `${prefix}-clip${names.size + 1}`);
    return lead + names.get(id)!;
  });
}

/** SVG markup of `spec` (no XML prolog, ready to inline in HTML); `idPrefix` must be unique within the page. */
export async function vegaLiteToSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const vgSpec = compile({ config: CHART_CONFIG, ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  try {
    return renameClipIds(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}
