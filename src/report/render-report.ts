/** Renders TaskResults into one self-contained HTML page: findings first, charts as inline SVG, tables, environment. */
import type { Json } from "../data/sample.js";
import type { BarChart, SweepChart, TaskResults } from "../experiment/results.js";
import { barSpec, curveSpec, MIN_BAND_N, sweepSpec } from "./chart-specs.js";
import { loadCurves, type CurveData } from "./curves.js";
import { armChip, esc, fmtNum, htmlPage, tableHtml } from "./html.js";
import { armColors } from "./palette.js";
import { REPORT_CSS } from "./style.js";
import { vegaLiteToSvg } from "./vega-svg.js";

/** What the report shows beside the results; everything optional. */
export interface ReportMeta {
  /** Human title of the task (default: the task name). */
  title?: string;
  /** A paragraph about the task. */
  description?: string;
  /** Run directory: curves are read from it when `curveData` is not given; also shown in the header. */
  runDir?: string;
  /** Run status line, e.g. "complete (12/12 jobs)". */
  status?: string;
  /** The resolved spec and environment, shown at the bottom. */
  spec?: Json;
  env?: Json;
  /** Pre-loaded curve points (tests, or callers without a run directory). */
  curveData?: CurveData;
  /** When the report was generated (default now). Pass a fixed value for byte-stable output. */
  generatedAt?: string;
}

/** Every arm in order of first appearance across the results, so colours are stable within a report. */
export function armsOf(r: TaskResults): string[] {
  const arms: string[] = [];
  const add = (a: string) => {
    if (!arms.includes(a)) arms.push(a);
  };
  r.bars.forEach((c) => c.bars.forEach((b) => add(b.arm)));
  r.sweeps.forEach((c) => c.points.forEach((p) => add(p.arm)));
  r.curves.forEach((c) => add(c.arm));
  r.samples.forEach((s) => add(s.arm));
  return arms;
}

/** Fields that get a training-curve chart (one SVG each, a panel per arm), in order of first appearance. */
export function curveFields(r: TaskResults): string[] {
  return [...new Set(r.curves.flatMap((c) => c.fields))];
}

/** How many charts (inline SVGs) the report of `r` contains: one per bar chart, sweep, and curve field. */
export function expectedChartCount(r: TaskResults): number {
  return r.bars.length + r.sweeps.length + curveFields(r).length;
}

function nRange(ns: number[]): string {
  if (ns.length === 0) return "no";
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
}

function barCaption(c: BarChart): string {
  const dots = c.bars.some((b) => (b.values?.length ?? 0) > 0) ? "; dots: individual runs" : "";
  const dir = c.lowerIsBetter === true ? " Lower is better." : c.lowerIsBetter === false ? " Higher is better." : "";
  const ci = c.bars.every((b) => b.n < 2)
    ? "no whiskers: one run per arm (n=1), so no CI"
    : `whiskers: 95% CI${c.bars.some((b) => b.n < 2) ? " (none where an arm has one run)" : ""}`;
  return `${c.yLabel}. Bars: mean over ${nRange(c.bars.map((b) => b.n))} runs per arm; ${ci}${dots}.${dir}`;
}

function sweepCaption(c: SweepChart): string {
  const few = c.points.some((p) => p.n > 0 && p.n < MIN_BAND_N)
    ? ` (drawn where an arm has at least ${MIN_BAND_N} runs)`
    : "";
  return `${c.yLabel} against ${c.xLabel}. Lines: mean over ${nRange(c.points.map((p) => p.n))} runs per arm; shaded band: 95% CI${few}.`;
}

function figure(id: string, kind: string, title: string, svg: string, caption: string, wide = false): string {
  return `<figure class="chart${wide ? " wide" : ""}" data-chart="${esc(kind)}:${esc(id)}">
<h3>${esc(title)}</h3>
${svg}
<figcaption>${esc(caption)}</figcaption>
</figure>`;
}

/** The whole report as an HTML string (async because Vega renders asynchronously). */
export async function renderReport(results: TaskResults, meta: ReportMeta = {}): Promise<string> {
  const arms = armsOf(results);
  const colors = armColors(arms);
  const chip = (a: string) => armChip(a, colors[a]);
  const parts: string[] = [];
  let chartNo = 0;

  // Header
  const title = meta.title ?? results.task;
  parts.push(`<header class="top">
<h1>${esc(title)}</h1>
<div class="sub">task <b>${esc(results.task)}</b> · preset <b>${esc(results.preset)}</b>${meta.status ? ` · ${esc(meta.status)}` : ""}${meta.runDir ? ` · <code>${esc(meta.runDir)}</code>` : ""}</div>
${meta.description ? `<p class="sub">${esc(meta.description)}</p>` : ""}
<div class="arms">${arms.map(chip).join("")}</div>
</header>`);

  // Findings first: what happened, in words.
  parts.push(
    `<section id="findings"><h2>Findings</h2>${
      results.findings.length > 0
        ? `<ul class="findings">${results.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>`
        : `<p class="empty">The task reported no findings.</p>`
    }</section>`,
  );

  const headline = Object.entries(results.headline);
  if (headline.length > 0) {
    parts.push(
      `<section id="headline"><h2>Headline numbers</h2><div class="cards">${headline
        .map(([k, v]) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(fmtNum(v))}</div></div>`)
        .join("")}</div></section>`,
    );
  }

  if (results.bars.length > 0) {
    const figs: string[] = [];
    for (const c of results.bars)
      figs.push(figure(c.id, "bar", c.title, await vegaLiteToSvg(barSpec(c, colors), `c${++chartNo}`), barCaption(c)));
    parts.push(`<section id="bars"><h2>Metrics by arm</h2><div class="grid">${figs.join("\n")}</div></section>`);
  }

  if (results.sweeps.length > 0) {
    const figs: string[] = [];
    for (const c of results.sweeps) {
      figs.push(
        figure(c.id, "sweep", c.title, await vegaLiteToSvg(sweepSpec(c, colors), `c${++chartNo}`), sweepCaption(c)),
      );
    }
    parts.push(`<section id="sweeps"><h2>Label sweeps</h2><div class="grid">${figs.join("\n")}</div></section>`);
  }

  const fields = curveFields(results);
  if (fields.length > 0) {
    const data =
      meta.curveData ??
      (meta.runDir
        ? loadCurves(meta.runDir, results.curves)
        : { points: [], problems: ["no run directory given: curves not loaded"] });
    const curveArms = arms.filter((a) => results.curves.some((c) => c.arm === a));
    const figs: string[] = [];
    for (const f of fields) {
      const pts = data.points.filter((p) => p.field === f);
      const seeds = new Set(results.curves.filter((c) => c.fields.includes(f)).map((c) => `${c.arm}/${c.seed}`)).size;
      const svg = await vegaLiteToSvg(curveSpec(f, pts, curveArms, colors), `c${++chartNo}`);
      figs.push(
        figure(
          f,
          "curve",
          `Training curve: ${f}`,
          svg,
          `${f} per training step, one panel per arm, one line per run (${seeds} runs in all); shared y axis.`,
          true,
        ),
      );
    }
    const probs = data.problems.length > 0 ? `<p class="note">${data.problems.map(esc).join("<br>")}</p>` : "";
    parts.push(
      `<section id="curves"><h2>Training curves</h2>${probs}<div class="grid">${figs.join("\n")}</div></section>`,
    );
  }

  if (results.seedComparison.length > 0) {
    parts.push(
      `<section id="seed"><h2>Ours vs the seed</h2><p class="sub">The seed write-up's numbers beside ours, stated plainly whatever we measured.</p>${tableHtml(
        ["quantity", "seed", "ours", "verdict"],
        results.seedComparison.map((r) => [r.quantity, r.seed, r.ours, r.verdict]),
      )}</section>`,
    );
  }

  for (const t of results.tables) {
    const armCol = t.columns.indexOf("arm");
    parts.push(
      `<section class="table"><h2>${esc(t.title)}</h2>${tableHtml(t.columns, t.rows, (i, v) =>
        i === armCol && typeof v === "string" ? chip(v) : null,
      )}</section>`,
    );
  }

  if (results.samples.length > 0) {
    const valueCols = [...new Set(results.samples.flatMap((s) => Object.keys(s.values)))];
    const rows = results.samples.map((s) => [
      s.arm,
      s.seed,
      s.label,
      s.prompt,
      s.output,
      ...valueCols.map((c) => s.values[c] ?? null),
    ]);
    parts.push(
      `<section id="samples"><h2>Samples</h2>${tableHtml(
        ["arm", "run", "label", "prompt", "output", ...valueCols],
        rows,
        (i, v) => (i === 0 ? chip(String(v)) : i === 3 || i === 4 ? `<pre>${esc(v ?? "")}</pre>` : null),
      )}</section>`,
    );
  }

  const envSpec: string[] = [];
  if (meta.spec !== undefined)
    envSpec.push(
      `<details><summary>Resolved spec</summary><pre>${esc(JSON.stringify(meta.spec, null, 2))}</pre></details>`,
    );
  if (meta.env !== undefined)
    envSpec.push(
      `<details><summary>Environment</summary><pre>${esc(JSON.stringify(meta.env, null, 2))}</pre></details>`,
    );
  if (envSpec.length > 0)
    parts.push(`<section id="environment"><h2>Environment and spec</h2>${envSpec.join("\n")}</section>`);

  const generated = meta.generatedAt ?? new Date().toISOString();
  return htmlPage(
    `${title} — ${results.preset} — mst report`,
    REPORT_CSS,
    parts.join("\n"),
    `Generated by mst (Monitor Sensitive Training / Evaluator Conditioned Training) at ${generated}. Self-contained: no network, no scripts.`,
  );
}
