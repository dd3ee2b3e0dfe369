/**
 * `mst compare`'s page: several runs of one task side by side in one self-contained HTML file — what differs between
 * their specs, each bar chart with one bar per run, each label sweep with a line per run, the headline numbers and
 * every run's findings.
 */
import type { Json } from "../data/sample.js";
import type { BarChart, TaskResults } from "../experiment/results.js";
import { barKey, compareBarSpec, compareSweepSpec, type RunBars } from "./compare-chart.js";
import { differingPaths } from "./compare-diff.js";
import { armChip, esc, fmtNum, htmlPage, tableHtml } from "./html.js";
import { runColors } from "./palette.js";
import { REPORT_CSS } from "./style.js";
import { vegaLiteToSvg } from "./vega-svg.js";

/** One run on the page. Only `name` and `results` are required. */
export interface CompareRun {
  /** Column / legend name (e.g. the run directory's basename). */
  name: string;
  results: TaskResults;
  /** Run directory, shown in the header. */
  dir?: string;
  /** Its spec.resolved.json; the "What differs" table is computed from these. */
  spec?: Json;
  /** e.g. "complete (12/12 jobs)" or "partial (5/12 jobs)". */
  status?: string;
  /** True when not every planned job finished: the page says the run's numbers cover only the finished jobs. */
  partial?: boolean;
  /** When the run started (ISO). */
  date?: string;
}

export interface CompareMeta {
  /** Page title (default "<task>: N runs compared"). */
  title?: string;
  /** When the page was generated (default now); pass a fixed value for byte-stable output. */
  generatedAt?: string;
}

/** Runs that cannot go on one page (different tasks, duplicate names, none at all). */
export class CompareError extends Error {
  override name = "CompareError";
}

/**
 * Throws a CompareError unless the runs can be compared: at least one, names distinct, one task. The message names
 * the runs at fault.
 */
export function checkComparable(runs: readonly CompareRun[]): void {
  if (runs.length === 0) throw new CompareError("no runs to compare");
  const first = runs[0];
  for (const r of runs.slice(1)) {
    if (r.results.task !== first.results.task) {
      throw new CompareError(
        `cannot compare runs of different tasks: ${first.name} is task "${first.results.task}", ` +
          `${r.name} is task "${r.results.task}"`,
      );
    }
  }
  const seen = new Set<string>();
  for (const r of runs) {
    if (seen.has(r.name))
      throw new CompareError(`two runs are named "${r.name}": give distinct names (--names a,b,...)`);
    seen.add(r.name);
  }
}

/** Fields of spec.resolved.json that say nothing about the experiment: file format, worker count, where it came from. */
const NOT_COMPARED = new Set(["format", "jobs", "source"]);

/** The resolved spec minus the fields in NOT_COMPARED (a spec is an object; anything else is compared as is). */
function comparable(spec: Json | undefined): Json | undefined {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return spec;
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !NOT_COMPARED.has(k)));
}

/** A spec value in a table cell: strings bare, the rest as JSON, long ones cut (the full text in a tooltip). */
function valueCell(v: Json | undefined): string {
  if (v === undefined) return `<span class="empty">absent</span>`;
  const text = typeof v === "string" ? v : JSON.stringify(v);
  if (text.length <= 80) return `<code>${esc(text)}</code>`;
  return `<code title="${esc(text)}">${esc(text.slice(0, 77))}…</code>`;
}

/** Charts by id, in order of first appearance across the runs, with each run's version of the chart. */
function chartsById<C extends { id: string }>(
  runs: readonly CompareRun[],
  pick: (r: TaskResults) => readonly C[],
): Array<{ id: string; charts: Array<{ run: string; chart: C }> }> {
  const byId = new Map<string, Array<{ run: string; chart: C }>>();
  for (const r of runs) {
    for (const chart of pick(r.results)) {
      if (!byId.has(chart.id)) byId.set(chart.id, []);
      byId.get(chart.id)!.push({ run: r.name, chart });
    }
  }
  return [...byId].map(([id, charts]) => ({ id, charts }));
}

/** "3" or "2–6": the range of seed counts behind a chart's estimates. */
function nRange(ns: readonly number[]): string {
  if (ns.length === 0) return "no";
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
}

function barCaption(first: BarChart, charts: readonly RunBars[], missing: string[]): string {
  const dots = charts.some((c) => c.chart.bars.some((b) => (b.values?.length ?? 0) > 0))
    ? "; dots: individual seeds"
    : "";
  const dir =
    first.lowerIsBetter === true ? " Lower is better." : first.lowerIsBetter === false ? " Higher is better." : "";
  const lacking = missing.length > 0 ? ` Not in ${missing.join(", ")}.` : "";
  const seeds = nRange(charts.flatMap((c) => c.chart.bars.map((b) => b.n)));
  return `${first.yLabel}. One bar per run: mean over ${seeds} seeds per arm; whiskers: 95% CI${dots}.${dir}${lacking}`;
}

/** mean [lo, hi] (n) for a bar, "—" when the run lacks it. */
function estimateText(b: { mean: number; lo: number; hi: number; n: number } | undefined): string {
  if (b === undefined) return "—";
  return `${fmtNum(b.mean)} [${fmtNum(b.lo)}, ${fmtNum(b.hi)}] (n=${b.n})`;
}

/** The comparison page as an HTML string (async because Vega renders asynchronously). */
export async function renderCompare(runs: readonly CompareRun[], meta: CompareMeta = {}): Promise<string> {
  checkComparable(runs);
  const names = runs.map((r) => r.name);
  const colors = runColors(names);
  const chip = (name: string) => armChip(name, colors[name]);
  const task = runs[0].results.task;
  const title = meta.title ?? `${task}: ${runs.length} runs compared`;
  const parts: string[] = [];

  // Header: which runs, and in what state.
  const runRows = runs.map((r) => [
    r.name,
    r.results.preset,
    r.status ?? "—",
    r.date ? r.date.replace("T", " ").slice(0, 16) : "—",
    r.dir ?? "—",
  ]);
  const partial = runs.filter((r) => r.partial === true);
  parts.push(`<header class="top">
<h1>${esc(title)}</h1>
<div class="sub">task <b>${esc(task)}</b> · ${runs.length} runs · colour = run in every chart</div>
<div class="arms">${names.map(chip).join("")}</div>
</header>
<section id="runs"><h2>Runs</h2>${tableHtml(
    ["run", "preset", "status", "started (UTC)", "directory"],
    runRows,
    (i, v) => (i === 0 ? chip(String(v)) : i === 4 && v !== "—" ? `<code>${esc(v)}</code>` : null),
  )}${
    partial.length > 0
      ? `<p class="note">${partial
          .map((r) => `${esc(r.name)} is ${esc(r.status ?? "partial")}: its numbers cover only the finished jobs.`)
          .join("<br>")}</p>`
      : ""
  }</section>`);

  // What differs: computed from the resolved specs, so it works for any task.
  const specs = runs.map((r) => comparable(r.spec));
  const noSpec = runs.filter((r) => r.spec === undefined).map((r) => r.name);
  const diffs = differingPaths(specs);
  const diffNote =
    noSpec.length > 0 ? `<p class="note">No spec.resolved.json for ${noSpec.map(esc).join(", ")}.</p>` : "";
  const diffBody =
    diffs.length > 0
      ? tableHtml(
          ["field", ...names],
          diffs.map((d) => [
            `<code>${esc(d.path)}</code>`,
            ...d.values.map((v, i) =>
              runs[i].spec === undefined ? `<span class="empty">no spec</span>` : valueCell(v),
            ),
          ]),
          (_i, html) => String(html), // cells are rendered above (values as code, "absent" in italics)
        )
      : `<p class="empty">The resolved specs (preset, arms, seeds, task config) are the same in every run.</p>`;
  parts.push(
    `<section id="differs"><h2>What differs</h2><p class="sub">Fields of spec.resolved.json (preset, arms, seeds, ` +
      `and <code>config.*</code>: the task config after preset and overrides) whose values are not the same in ` +
      `every run.</p>${diffNote}${diffBody}</section>`,
  );

  // One grouped bar chart per bar chart id.
  let chartNo = 0;
  const barsById = chartsById(runs, (r) => r.bars);
  if (barsById.length > 0) {
    const figs: string[] = [];
    for (const { id, charts } of barsById) {
      const first = charts[0].chart;
      const missing = names.filter((n) => !charts.some((c) => c.run === n));
      const svg = await vegaLiteToSvg(compareBarSpec(charts, colors), `k${++chartNo}`);
      const keys = [...new Set(charts.flatMap((c) => c.chart.bars.map(barKey)))];
      const values = tableHtml(
        ["arm", ...names],
        keys.map((k) => [
          k,
          ...names.map((n) => estimateText(charts.find((c) => c.run === n)?.chart.bars.find((b) => barKey(b) === k))),
        ]),
      );
      // many bars: the chart takes the page's full width instead of scrolling inside half of it
      const wide = keys.length * names.length > 12 ? " wide" : "";
      figs.push(`<figure class="chart${wide}" data-chart="bar:${esc(id)}">
<h3>${esc(first.title)}</h3>
${svg}
<figcaption>${esc(barCaption(first, charts, missing))}</figcaption>
<details><summary>Values: mean [95% CI] (seeds)</summary>${values}</details>
</figure>`);
    }
    parts.push(
      `<section id="bars"><h2>Metrics by arm and run</h2><div class="grid">${figs.join("\n")}</div></section>`,
    );
  }

  // Label sweeps: a panel per arm, a line per run.
  const sweepsById = chartsById(runs, (r) => r.sweeps);
  if (sweepsById.length > 0) {
    const figs: string[] = [];
    for (const { id, charts } of sweepsById) {
      const first = charts[0].chart;
      const arms = [...new Set(charts.flatMap((c) => c.chart.points.map((p) => p.arm)))];
      const missing = names.filter((n) => !charts.some((c) => c.run === n));
      const caption =
        `${first.yLabel} against ${first.xLabel}: a panel per arm, a line per run (mean over ` +
        `${nRange(charts.flatMap((c) => c.chart.points.map((p) => p.n)))} seeds; the 95% CI bands are in each ` +
        `run's report.html).` +
        (missing.length > 0 ? ` Not in ${missing.join(", ")}.` : "");
      const svg = await vegaLiteToSvg(compareSweepSpec(charts, arms, colors), `k${++chartNo}`);
      figs.push(`<figure class="chart wide" data-chart="sweep:${esc(id)}">
<h3>${esc(first.title)}</h3>
${svg}
<figcaption>${esc(caption)}</figcaption>
</figure>`);
    }
    parts.push(
      `<section id="sweeps"><h2>Label sweeps by arm and run</h2><div class="grid">${figs.join("\n")}</div></section>`,
    );
  }

  // Headline numbers: rows = keys (in order of first appearance), columns = runs.
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.results.headline)))];
  if (keys.length > 0) {
    parts.push(
      `<section id="headline"><h2>Headline numbers</h2>${tableHtml(
        ["quantity", ...names],
        keys.map((k) => [k, ...runs.map((r) => (k in r.results.headline ? r.results.headline[k] : null))]),
      )}</section>`,
    );
  }

  // Each run's findings, side by side where the page is wide enough.
  parts.push(
    `<section id="findings"><h2>Findings</h2><div class="grid compare-findings">${runs
      .map(
        (r) =>
          `<div class="run-findings" data-run="${esc(r.name)}"><h3>${chip(r.name)}</h3>${
            r.results.findings.length > 0
              ? `<ul class="findings">${r.results.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>`
              : `<p class="empty">No findings reported.</p>`
          }</div>`,
      )
      .join("\n")}</div></section>`,
  );

  const generated = meta.generatedAt ?? new Date().toISOString();
  return htmlPage(
    `${title} — mst compare`,
    REPORT_CSS + COMPARE_CSS,
    parts.join("\n"),
    `Generated by mst compare (Monitor Sensitive Training / Evaluator Conditioned Training) at ${generated}. Self-contained: no network, no scripts.`,
  );
}

/** A little more than the run report's stylesheet: findings columns and tables inside chart cards. */
const COMPARE_CSS = `
.compare-findings { grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
.run-findings h3 { margin-bottom: 8px; }
figure.chart details { margin-top: 8px; }
td code { font-size: 12.5px; }
`;
