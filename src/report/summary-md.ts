/** A markdown summary of TaskResults (summary.md): findings, headline, each bar chart and sweep as a table. */
import type { TaskResults } from "../experiment/results.js";
import { fmtNum } from "./html.js";

const cell = (v: unknown): string => String(v).replace(/\|/g, "\\|").replace(/\n/g, " ");
function mdTable(columns: string[], rows: Array<Array<string | number | null>>): string {
  const head = `| ${columns.map(cell).join(" | ")} |\n|${columns.map(() => " --- ").join("|")}|`;
  return [
    head,
    ...rows.map((r) => `| ${r.map((v) => cell(typeof v === "number" || v === null ? fmtNum(v) : v)).join(" | ")} |`),
  ].join("\n");
}
/** A CI cell; one run has none (a zero-width "[x, x]" would read as certainty). */
const ci = (lo: number, hi: number, n: number): string => (n > 1 ? `[${fmtNum(lo)}, ${fmtNum(hi)}]` : "none (n=1)");

/** The summary as markdown text. */
export function renderSummary(results: TaskResults, meta: { title?: string; status?: string } = {}): string {
  const out: string[] = [];
  out.push(`# ${meta.title ?? results.task} — preset ${results.preset}`);
  if (meta.status) out.push(`Status: ${meta.status}`);
  out.push("## Findings");
  out.push(results.findings.length > 0 ? results.findings.map((f) => `- ${f}`).join("\n") : "_None reported._");
  const head = Object.entries(results.headline);
  if (head.length > 0) {
    out.push("## Headline");
    out.push(
      mdTable(
        ["quantity", "value"],
        head.map(([k, v]) => [k, v]),
      ),
    );
  }
  for (const c of results.bars) {
    out.push(`## ${c.title}`);
    out.push(`${c.yLabel}; mean with 95% CI over runs (none where an arm has one run).`);
    const grouped = c.bars.some((b) => b.group !== undefined);
    out.push(
      mdTable(
        [...(grouped ? ["group"] : []), "arm", "mean", "95% CI", "n"],
        c.bars.map((b) => [...(grouped ? [b.group ?? ""] : []), b.arm, b.mean, ci(b.lo, b.hi, b.n), b.n]),
      ),
    );
  }
  for (const s of results.sweeps) {
    out.push(`## ${s.title}`);
    out.push(`${s.yLabel} (mean over runs) by ${s.xLabel}.`);
    const xs = [...new Set(s.points.map((p) => p.x))].sort((a, b) => a - b);
    const arms = [...new Set(s.points.map((p) => p.arm))];
    const name = (x: number) => (s.xLabels ? (s.xLabels[x] ?? String(x)) : String(x));
    out.push(
      mdTable(
        [s.xLabel, ...arms],
        xs.map((x) => [name(x), ...arms.map((a) => s.points.find((p) => p.arm === a && p.x === x)?.mean ?? null)]),
      ),
    );
  }
  if (results.seedComparison.length > 0) {
    out.push("## Ours vs the seed");
    out.push(
      mdTable(
        ["quantity", "seed", "ours", "verdict"],
        results.seedComparison.map((r) => [r.quantity, r.seed, r.ours, r.verdict]),
      ),
    );
  }
  for (const t of results.tables) {
    out.push(`## ${t.title}`);
    out.push(mdTable(t.columns, t.rows));
  }
  out.push("Charts, training curves and samples: see report.html beside this file.");
  return out.join("\n\n") + "\n";
}
