/** One colour per arm, the same in every chart and table of a report (and across reports for the standard arms). */

/** Fixed colours for the standard arms, so "MST is blue" holds in every report. */
const STANDARD: Record<string, string> = {
  baseline: "#6b7280", // grey: the reference
  mst: "#2563eb", // blue
  shuffled: "#d97706", // amber
  "prompt-only": "#7c3aed", // violet
  inoculation: "#059669", // green
  base: "#0f172a", // the untouched base model
};
const EXTRA = ["#dc2626", "#0891b2", "#65a30d", "#db2777", "#a16207", "#4f46e5", "#0d9488"];

/** Colours for `arms` in the given order: standard ones fixed, others from a spare palette in order of appearance. */
export function armColors(arms: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let k = 0;
  for (const a of arms) {
    if (a in out) continue;
    out[a] = STANDARD[a] ?? EXTRA[k++ % EXTRA.length];
  }
  return out;
}

/**
 * Colours for the runs of an `mst compare` page, where colour means run rather than arm: a fixed sequence taken in
 * order, so the first run is blue, the second amber, and so on, in every chart of the page.
 */
export function runColors(runs: readonly string[]): Record<string, string> {
  const seq = ["#2563eb", "#d97706", "#059669", "#7c3aed", ...EXTRA];
  const out: Record<string, string> = {};
  runs.forEach((r, i) => (out[r] = seq[i % seq.length]));
  return out;
}
