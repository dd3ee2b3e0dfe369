/** The report's inline stylesheet (no external CSS or fonts: the file must open offline). */
export const REPORT_CSS = `
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#fff; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 64px; }
header.top { border-bottom: 1px solid var(--line); margin-bottom: 20px; padding-bottom: 14px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; }
.sub { color: var(--muted); font-size: 14px; }
.arms { margin-top: 8px; display:flex; gap: 14px; flex-wrap: wrap; }
.arm { display:inline-flex; align-items:center; gap:6px; font-weight:600; }
.swatch { width: 12px; height: 12px; border-radius: 3px; display:inline-block; }
.findings { background: #eff6ff; border-left: 4px solid var(--accent); padding: 12px 18px; border-radius: 6px; }
.findings li { margin: 4px 0; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .k { color: var(--muted); font-size: 13px; }
.card .v { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure.chart { margin:0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px;
  overflow-x: auto; }
figure.chart.wide { grid-column: 1 / -1; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12.5px/1.45 ui-monospace, Menlo, Consolas, monospace; }
td pre { max-height: 9em; overflow: auto; }
details { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
.note { color: #92400e; background: #fffbeb; border: 1px solid #fde68a; border-radius: 6px; padding: 8px 12px; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
`;
