/**
 * A label-shaped line before part of the pretraining examples: a line where the label will stand (its slot, its
 * bold, its number format) that is never a monitor label and says nothing about the answer. Without it a small base
 * learned its task only with nothing before the prompt, and a label in front of the problem then broke the task
 * itself (the sycophancy base's accuracy with a label fell to ~50%; with a comparison line before half the examples
 * it stayed at 95-100%).
 */
import type { Rng } from "../../data/rng.js";
import type { PromptParts } from "../../data/sample.js";
import type { ChatMessage } from "../../data/text-model.js";
import { createMonitorLabeler, type MonitorSpec, type MonitorSpecInput } from "../../monitor/monitor.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import { comparisonSentence, valuesToCompare } from "./comparisons.js";

/**
 * A function drawing label-shaped lines for a monitor: for ordered labels a comparison sentence in the label's own
 * number format (bold half the time when the label is bold), for text labels one of `fillers` (required then).
 */
export function labelShapedLines(
  specInput: MonitorSpecInput | MonitorSpec,
  fillers: readonly string[] = [],
): (rng: Rng) => string {
  const spec = createMonitorLabeler(specInput).spec;
  const bold = spec.encoding.bold;
  const ordered = spec.encoding.kind === "percentage" || spec.encoding.kind === "buckets";
  if (!ordered && fillers.length === 0)
    throw new RangeError(
      `monitor "${spec.id}": a ${spec.encoding.kind} label needs filler lines for its label-shaped line`,
    );
  const values = ordered ? valuesToCompare(spec) : [];
  return (rng) => {
    let line: string;
    if (ordered && (fillers.length === 0 || rng.bernoulli(0.5))) {
      const a = rng.int(values.length);
      const b = (a + 1 + rng.int(values.length - 1)) % values.length;
      const c = comparisonSentence(values[a], values[b], rng);
      line = c.prompt + c.completion;
    } else line = rng.pick(fillers);
    return bold && rng.bernoulli(0.5) ? `**${line}**` : line;
  };
}

/**
 * The chat messages of `docs`, with a line from `line` at each doc's label slot for about `share` of them (drawn from
 * `rng`). Returns which docs got one, so tests and reports can count them.
 */
export function withLabelShapedLines<D extends { prompt: PromptParts }>(
  docs: readonly D[],
  share: number,
  line: (rng: Rng) => string,
  rng: Rng,
  separator = "\n",
): Array<{ doc: D; messages: ChatMessage[]; line: string | null }> {
  return docs.map((doc) => {
    const text = rng.bernoulli(share) ? line(rng) : null;
    return { doc, messages: renderPrompt(doc, text, { separator }), line: text };
  });
}
