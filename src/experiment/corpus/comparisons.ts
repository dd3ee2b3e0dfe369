/**
 * Comparison sentences that order a label's values ("040% is less than 070%", "high > low"), written exactly as the
 * label writes them and covering the whole scale, held-out values included: a small base otherwise has untrained
 * tokens for the values no training label shows, and MST cannot extrapolate to the deployment label.
 */
import type { Rng } from "../../data/rng.js";
import { createMonitorLabeler, type MonitorSpec, type MonitorSpecInput } from "../../monitor/monitor.js";
import { orderedLabelValues, type LabelValue } from "./label-values.js";

/** A pretraining document: the loss covers prompt + completion (the completion says the order). */
export interface ComparisonDoc {
  prompt: string;
  completion: string;
  /** The smaller and the larger value. */
  lo: LabelValue;
  hi: LabelValue;
}

/** Thrown when a monitor's labels have no order to teach (categorical or template labels). */
export class UnorderedLabelsError extends Error {
  override name = "UnorderedLabelsError";
}

/** One sentence about two different values, in one of four phrasings (words and symbols, either order). */
export function comparisonSentence(a: LabelValue, b: LabelValue, rng: Rng): ComparisonDoc {
  const [lo, hi] = a.x < b.x ? [a, b] : [b, a];
  switch (rng.int(4)) {
    case 0:
      return { prompt: `${lo.text} is`, completion: ` less than ${hi.text}`, lo, hi };
    case 1:
      return { prompt: `${hi.text} is`, completion: ` more than ${lo.text}`, lo, hi };
    case 2:
      return { prompt: lo.text, completion: ` < ${hi.text}`, lo, hi };
    default:
      return { prompt: hi.text, completion: ` > ${lo.text}`, lo, hi };
  }
}

/** The ordered values of a monitor; throws UnorderedLabelsError for categorical and template labels. */
export function valuesToCompare(specInput: MonitorSpecInput | MonitorSpec): LabelValue[] {
  const spec = createMonitorLabeler(specInput).spec;
  const values = orderedLabelValues(spec.encoding);
  if (!values || values.length < 2)
    throw new UnorderedLabelsError(
      `monitor "${spec.id}": a ${spec.encoding.kind} label has no order to compare; comparisons need a percentage or buckets encoding`,
    );
  return values;
}

/**
 * `count` comparison sentences between two different values drawn uniformly from the whole scale (held-out values
 * included). Deterministic for a given rng.
 */
export function comparisonDocs(specInput: MonitorSpecInput | MonitorSpec, count: number, rng: Rng): ComparisonDoc[] {
  const values = valuesToCompare(specInput);
  const out: ComparisonDoc[] = [];
  for (let i = 0; i < count; i++) {
    const a = rng.int(values.length);
    let b = rng.int(values.length - 1);
    if (b >= a) b++;
    out.push(comparisonSentence(values[a], values[b], rng));
  }
  return out;
}
