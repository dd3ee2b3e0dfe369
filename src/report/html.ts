/** Small HTML helpers for the report: escaping, number formatting, tables. */

/** Escapes text for HTML element content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** Numbers shown to a reader: integers as is, others to 3 significant decimals; null/NaN as an em dash. */
export function fmtNum(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "—";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : String(Number(v.toPrecision(3)));
}

/** A table; `cellHtml` may return pre-escaped HTML for a column (e.g. an arm chip). */
export function tableHtml(
  columns: string[],
  rows: Array<Array<string | number | null>>,
  cellHtml?: (col: number, value: string | number | null) => string | null,
): string {
  const head = columns.map((c) => `<th>${esc(c)}</th>`).join("");
  const body = rows
    .map(
      (r) =>
        `<tr>${r
          .map((v, i) => {
            const custom = cellHtml?.(i, v);
            const num = typeof v === "number";
            return `<td${num ? ' class="num"' : ""}>${custom ?? esc(fmtNum(v))}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("\n");
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** A coloured chip naming an arm. */
export function armChip(arm: string, color: string | undefined): string {
  return `<span class="arm"><span class="swatch" style="background:${esc(color ?? "#999")}"></span>${esc(arm)}</span>`;
}

/**
 * A whole self-contained page: the content security policy allows no network, no scripts, only inline styles and
 * data: images, so a report opened from disk or mailed around shows exactly what was written.
 */
export function htmlPage(title: string, css: string, body: string, footer: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${css}</style>
</head>
<body>
<main>
${body}
<footer>${esc(footer)}</footer>
</main>
</body>
</html>
`;
}
