/**
 * The base's pretraining corpus: problems answered by a teacher who writes the right rule most of the time and a
 * table of the visible tests otherwise (so the base has the latent skill and knows what a table is), a label-shaped
 * line before part of them (so a label in front of a problem does not break the skill), and comparison sentences over
 * the coverage numbers (held-out ones included). It never shows a monitor label or a grader.
 */
import { z } from "zod";
import type { Rng } from "../../data/rng.js";
import { comparisonDocs } from "../../experiment/corpus/comparisons.js";
import { labelShapedLines } from "../../experiment/corpus/label-line.js";
import type { CorpusText } from "../../experiment/pretrain.js";
import type { MonitorSpecInput } from "../../monitor/monitor.js";
import { userText } from "./prompt.js";
import { ruleText, tableText, type Problem } from "./problems.js";

export const CorpusConfigSchema = z
  .strictObject({
    tableShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe("Share of the teacher's answers that are a table of the visible tests. Default 0.2."),
    repeats: z.int().min(1).default(1).describe("Times each pretraining problem appears. Default 1."),
    labelLineShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe("Share of problems with a label-shaped line (never a label) before them. Default 0.5."),
    comparisons: z
      .int()
      .min(0)
      .default(400)
      .describe("Sentences ordering the coverage numbers, held-out ones included. Default 400."),
  })
  .describe("The base's pretraining corpus");
export type CorpusConfig = z.output<typeof CorpusConfigSchema>;

/**
 * Lines in the label's slot that use the label's words (bold, "tests", "run", "of", numbers) but are no grader label
 * and say nothing about the answer: a first base whose corpus only had comparison sentences there lost half its
 * skill (true pass 0.49 -> 0.2) and wrote malformed programs once a coverage label stood before the problem, its
 * words never having been seen.
 */
export function fillerLines(hidden: number): string[] {
  const out: string[] = [];
  for (let n = 0; n <= hidden; n++) {
    out.push(`Tests run: ${n}`, `Hidden notes: ${n} of ${hidden}`, `Page ${n} of ${hidden}`, `Run ${n} of the tests`);
    out.push(`${n} of ${hidden} tests are hidden in this list`);
  }
  return out;
}

/** The corpus documents, shuffled; `spec` is the coverage monitor (its labels' shape, never its labels). */
export function buildCorpus(
  c: CorpusConfig,
  problems: readonly Problem[],
  spec: MonitorSpecInput,
  hidden: number,
  separator: string,
  rng: Rng,
): CorpusText[] {
  const line = labelShapedLines(spec, fillerLines(hidden));
  const r = rng.fork("problems");
  const docs: CorpusText[] = [];
  for (let rep = 0; rep < c.repeats; rep++)
    for (const p of problems) {
      const prefix = r.bernoulli(c.labelLineShare) ? line(r) + separator : "";
      const answer = r.bernoulli(c.tableShare) ? tableText(p.visible) : ruleText(p.fn);
      docs.push({ prompt: prefix + userText(p), completion: answer });
    }
  for (const d of comparisonDocs(spec, c.comparisons, rng.fork("comparisons")))
    docs.push({ prompt: d.prompt, completion: d.completion });
  return rng.fork("order").shuffle(docs);
}
