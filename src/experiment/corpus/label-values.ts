/**
 * What a monitor's labels are made of: the ordered values a label can show (held-out ones included) and every label
 * text, so a small base's tokenizer has a token for each and its corpus can teach what they mean.
 */
import { formatScore, type LabelEncoding, type PercentageEncoding } from "../../monitor/encoding.js";
import { createMonitorLabeler, type MonitorSpec, type MonitorSpecInput } from "../../monitor/monitor.js";
import type { WordLevelOptions } from "../../engine/tokenizer-build.js";

/** Most grid points enumerated for a percentage encoding (a finer `decimals` is sampled at this many steps). */
const MAX_GRID = 1001;

/** One value a label can show: its position on the scale and the text the label writes for it ("40%"). */
export interface LabelValue {
  /** The score (percentage, bucket index) the value stands for; orders the values. */
  x: number;
  /** The value as the label writes it (padding, decimals and unit included), e.g. "040%" or "medium". */
  text: string;
  /** Monitor parameters that render this value (the encoded parameter mapped back). */
  params: Record<string, number>;
}

/** The unit right after `{value}` in a percentage template ("%" for "Level: {value}%", "" otherwise). */
export function unitOf(enc: PercentageEncoding): string {
  const m = /\{value\}(%?)/.exec(enc.template);
  return m?.[1] ?? "";
}

/** A score written exactly as the label writes it (same decimals, rounding, zero-padding and unit): "040%". */
export function scoreText(enc: PercentageEncoding, score: number): string {
  return formatScore(score, enc.decimals, enc.rounding, enc.width) + unitOf(enc);
}

/**
 * The values an ordered encoding can show, lowest first: every score of a percentage's `to` range at its decimals
 * step (0%..100% by default), or every bucket. Held-out values are included on purpose: the corpus must order them
 * too (a prototype found held-out number tokens stay untrained otherwise). Null for categorical and template labels.
 */
export function orderedLabelValues(enc: LabelEncoding): LabelValue[] | null {
  if (enc.kind === "buckets") {
    const [lo, hi] = enc.from;
    return enc.names.map((name, i) => ({
      x: i,
      text: name,
      params: { [enc.param]: lo + ((i + 0.5) * (hi - lo)) / enc.names.length },
    }));
  }
  if (enc.kind !== "percentage") return null;
  const [t0, t1] = enc.to;
  const [f0, f1] = enc.from;
  const lo = Math.min(t0, t1);
  const hi = Math.max(t0, t1);
  const step = 10 ** -enc.decimals;
  const n = Math.min(MAX_GRID, Math.floor((hi - lo) / step + 1e-9) + 1);
  const out: LabelValue[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const score = n === 1 ? lo : lo + ((hi - lo) * i) / (n - 1);
    const text = scoreText(enc, score);
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ x: score, text, params: { [enc.param]: f0 + ((score - t0) / (t1 - t0)) * (f1 - f0) } });
  }
  return out;
}

/**
 * Every label text the monitor can show: one per ordered value (percentages, buckets), one per categorical value,
 * plus the deployment label and the sweep (a template label only has those). Held-out values are included.
 */
export function allLabelTexts(specInput: MonitorSpecInput | MonitorSpec): string[] {
  const labeler = createMonitorLabeler(specInput);
  const enc = labeler.spec.encoding;
  const out = new Set<string>();
  const values = orderedLabelValues(enc);
  if (values) for (const v of values) out.add(labeler.labelOf({ params: v.params }));
  if (enc.kind === "categorical")
    for (const k of Object.keys(enc.values)) out.add(labeler.labelOf({ params: { [enc.param]: k } }));
  out.add(labeler.labelOf(labeler.spec.deployment));
  for (const ref of labeler.spec.sweep) out.add(labeler.labelOf(ref));
  return [...out];
}

/**
 * Word-level tokenizer options that make every label value one token of its own: "N%" becomes one token (digits mode
 * "percent"), never the same token as the bare number N a task's text may contain (with integer tokens the labels 0%
 * and 10% shared tokens with the problems' numbers and MST fell to chance at exactly those labels), and every label
 * text is required, so no value (held-out ones included) is <unk>. Pass the result to `buildWordLevelTokenizer`.
 */
export function labelTokenizerOptions(
  specInput: MonitorSpecInput | MonitorSpec,
  extraRequired: readonly string[] = [],
): Pick<WordLevelOptions, "digits" | "requiredTexts"> {
  const labeler = createMonitorLabeler(specInput);
  const values = orderedLabelValues(labeler.spec.encoding) ?? [];
  return {
    digits: labeler.spec.encoding.kind === "percentage" && unitOf(labeler.spec.encoding) === "%" ? "percent" : "whole",
    requiredTexts: [...allLabelTexts(labeler.spec), ...values.map((v) => v.text), ...extraRequired],
  };
}
