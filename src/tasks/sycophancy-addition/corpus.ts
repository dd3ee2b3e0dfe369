/**
 * The number-sense pretraining corpus of the embedded base model. It never contains a monitor label.
 *
 * What it holds and why (the seed's base, Qwen-2.5-7B-it, already knew arithmetic, what numbers mean, and was a
 * ~60%-accurate verifier; our tiny model starts from nothing, so the corpus supplies that latent knowledge):
 * - addition facts "3+4=7" for every operand pair: the arithmetic the verifier relies on;
 * - comparisons of numbers over 0..100, in words ("040% is less than 070%") and symbols ("040% < 070%"), written at
 *   the label's width and tokenisation: they order the label numbers, including the held-out 0..32 that no training
 *   label shows (a prototype found held-out number tokens stay untrained without this);
 * - verification examples in the task's own response format without a label ("3+4=8? incorrect"). The embedded
 *   preset writes them as an agreeable teacher would: every right candidate called correct, 60% of the wrong ones
 *   called correct too (`wrongVerdictShare` 0.3, `agreeShareOfWrong` 1), which makes the base a moderately accurate
 *   verifier like the seed's (~62% accurate) that still knows which sums are wrong (AUC ~0.95). Symmetric noise at
 *   the old recipe (lr 3e-3 x 1,000 steps, 30% wrong verdicts either way) made the base a lottery (0 of 2 noisy bases
 *   passed the gate, 4 of 6 clean ones did; lr 1e-3 x 1,000-2,000 steps with the comparison line below: 16 of 16
 *   clean ones). The embedded preset keeps the held-out operand pairs out of the verification examples
 *   (`verifyPairs: train`), so the gate measures verification of sums the base never saw checked (only their
 *   addition facts);
 * - a line before half the verification problems (`prefixShare`): a comparison sentence in the label's number format,
 *   bold half the time. With clean data it keeps the base verifying once a label stands before the problem (gate
 *   accuracy with a label 95-100% against ~50% without it); the earlier "any line stops learning" came with the noise.
 */
import { z } from "zod";
import type { Rng } from "../../data/rng.js";
import { WORD_PATTERNS } from "../../engine/tokenizer-build.js";
import { formatScore } from "../../monitor/encoding.js";
import { createMonitorLabeler } from "../../monitor/monitor.js";
import { suggestibilitySpec, wordDigitsMode, type LabelConfig } from "./labels.js";
import { generateProblems, splitPairs, type ProblemsConfig } from "./problems.js";
import { problemText, truthfulVerdict, type PromptConfig } from "./prompt.js";

export const CorpusConfigSchema = z
  .strictObject({
    additionRepeats: z
      .int()
      .min(0)
      .default(6)
      .describe("Each addition fact 'a + b = c' appears this many times (every operand pair). Default 6."),
    comparisons: z
      .int()
      .min(0)
      .default(1500)
      .describe("Number comparisons over 0..100 (0 = none, the ablation). Default 1,500."),
    verifications: z
      .int()
      .min(0)
      .default(6000)
      .describe("Verification examples in the task's format without a label. Default 6,000."),
    wrongVerdictShare: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "Share of verification examples with the wrong verdict (makes the base a moderate verifier; `agreeShareOfWrong` " +
          "says which verdicts are wrong). Measured here: symmetric noise 0.3 at lr 3e-3 x 1,000 steps made most bases " +
          "fail to learn to verify; agreeing noise 0.3 (agreeShareOfWrong 1) at lr 1e-3 x 1,500 steps with the prefix line " +
          "gives ~62%-accurate bases with AUC ~0.95 (the embedded preset). Default 0 (clean).",
      ),
    agreeShareOfWrong: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe(
        "Of the wrong verdicts, the share that agree with a wrong candidate (sycophantic) rather than reject a right one. Default 0.5.",
      ),
    prefixShare: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "Share of verification examples preceded by an unrelated line (a comparison sentence, bold half the time), meant " +
          "to keep the base verifying when a line stands before the problem, as the label later does. Measured here with a " +
          "clean corpus: 0.5 kept the gate's accuracy with a label at 95-100% (without it ~50%). Default 0; embedded 0.5.",
      ),
    preambleShare: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "Share of verification examples preceded by a bold filler line of random number-free words, exactly as many " +
          "tokens long as the label, meant to keep the base verifying once a label stands before the problem. " +
          "Measured here (800-1,600 steps, d_model 64, 2 layers): with any line before the problem (filler, constant " +
          "filler, comparison sentence, share 0.5 or 1) no base learned to verify; without one most did. Default 0.",
      ),
    preambleWords: z
      .array(z.string().regex(/^\p{L}+$/u, "letters only"))
      .min(1)
      .default([
        "please",
        "check",
        "this",
        "sum",
        "for",
        "me",
        "quick",
        "question",
        "homework",
        "my",
        "teacher",
        "asks",
      ])
      .describe("Words the filler lines are drawn from (never a monitor label, no numbers)."),
    fillerMaxWords: z
      .int()
      .min(0)
      .default(0)
      .describe(
        "0: the filler line is as long as the label. n > 0: a random 0..n words (0 = no line), so the problem's position " +
          "varies. Default 0.",
      ),
    verifyPairs: z
      .enum(["all", "train"])
      .default("all")
      .describe(
        "Operand pairs of the verification examples: 'all' (like a pretrained LLM that has seen every sum) or only the RL " +
          "training pairs ('train': the test pairs then rest on addition facts alone). Default all.",
      ),
  })
  .describe("The pretraining corpus of the embedded base (never contains monitor labels)");
export type CorpusConfig = z.output<typeof CorpusConfigSchema>;

export type CorpusKind = "addition" | "comparison" | "verification";

/** One pretraining document: the loss covers `prompt + completion`, the completion is what a gate or probe checks. */
export interface CorpusDoc {
  kind: CorpusKind;
  prompt: string;
  completion: string;
}

/** A number as the label writes it (same zero-padding), so comparisons teach the label's own tokens. */
export function labelNumber(n: number, label: LabelConfig): string {
  return formatScore(n, 0, "half-up", label.encoding === "percentage" ? label.width : 0);
}

/** One comparison sentence about two different numbers in 0..100, in one of four phrasings. */
export function comparisonDoc(x: number, y: number, label: LabelConfig, rng: Rng): CorpusDoc {
  const [lo, hi] = x < y ? [x, y] : [y, x];
  // Written "040%" exactly as in the label, so the comparison teaches the label's own tokens.
  const L = `${labelNumber(lo, label)}%`;
  const H = `${labelNumber(hi, label)}%`;
  switch (rng.int(4)) {
    case 0:
      return { kind: "comparison", prompt: `${L} is`, completion: `less than ${H}` };
    case 1:
      return { kind: "comparison", prompt: `${H} is`, completion: `more than ${L}` };
    case 2:
      return { kind: "comparison", prompt: `${L}`, completion: `< ${H}` };
    default:
      return { kind: "comparison", prompt: `${H}`, completion: `> ${L}` };
  }
}

/** How many pieces the word-level tokenizer cuts `text` into (segmentation depends only on its pattern, not the vocabulary). */
export function countPieces(text: string, numberTokens: LabelConfig["numberTokens"]): number {
  const re = new RegExp(WORD_PATTERNS[wordDigitsMode(numberTokens)], "gu");
  return [...text.matchAll(re)].length;
}

/** A training-range label (s = 1), to measure how long labels are. */
function renderExampleLabel(label: LabelConfig): string {
  return createMonitorLabeler(suggestibilitySpec(label)).labelOf({ params: { s: 1 } });
}

/** "**word word ...**" with as many tokens as the label (at least one word), so the problem sits where it will under a label. */
export function fillerLine(words: readonly string[], tokens: number, rng: Rng): string {
  const n = Math.max(1, tokens - 4);
  const picked = Array.from({ length: n }, () => rng.pick(words));
  return `**${picked.join(" ")}**`;
}

/**
 * Builds the corpus, shuffled. Deterministic for a given rng. Verification prompts go through the task's own prompt
 * renderer with no label, so the base learns exactly the response position RL later trains.
 */
export function buildCorpus(
  cfg: CorpusConfig,
  problems: ProblemsConfig,
  prompt: PromptConfig,
  label: LabelConfig,
  rng: Rng,
): CorpusDoc[] {
  const docs: CorpusDoc[] = [];
  for (let r = 0; r < cfg.additionRepeats; r++)
    for (let a = problems.operandMin; a <= problems.operandMax; a++)
      for (let b = problems.operandMin; b <= problems.operandMax; b++)
        docs.push({ kind: "addition", prompt: `${a}+${b}=`, completion: String(a + b) });

  const cmp = rng.fork("corpus:comparisons");
  for (let i = 0; i < cfg.comparisons; i++) {
    const x = cmp.int(101);
    let y = cmp.int(100);
    if (y >= x) y++;
    docs.push(comparisonDoc(x, y, label, cmp));
  }

  const { train, test } = splitPairs(problems);
  const pairs = cfg.verifyPairs === "all" ? [...train, ...test] : train;
  const ver = rng.fork("corpus:verifications");
  const labelTokens = countPieces(renderExampleLabel(label), label.numberTokens);
  const probs = generateProblems(cfg.verifications, pairs, problems, ver.fork("problems"), "corpus");
  for (const p of probs) {
    const truth = truthfulVerdict(p);
    let verdict = truth;
    // Wrong verdicts are placed by candidate type so `agreeShareOfWrong` controls how sycophantic the base's errors are.
    const pWrong = p.candidateCorrect
      ? cfg.wrongVerdictShare * (1 - cfg.agreeShareOfWrong) * 2
      : cfg.wrongVerdictShare * cfg.agreeShareOfWrong * 2;
    if (ver.bernoulli(Math.min(1, pWrong))) verdict = truth === "correct" ? "incorrect" : "correct";
    let text = problemText(p, null, prompt);
    if (ver.bernoulli(cfg.prefixShare)) {
      // An unrelated line before the problem (never a monitor label): the verdict must not depend on it.
      const x = ver.int(101);
      const y = (x + 1 + ver.int(100)) % 101;
      const c = comparisonDoc(x, y, label, ver);
      const line = `${c.prompt} ${c.completion}`;
      text = (ver.bernoulli(0.5) ? `**${line}**` : line) + prompt.separator + text;
    } else if (ver.bernoulli(cfg.preambleShare)) {
      if (cfg.fillerMaxWords === 0) text = fillerLine(cfg.preambleWords, labelTokens, ver) + prompt.separator + text;
      else {
        const n = ver.int(cfg.fillerMaxWords + 1);
        if (n > 0) text = fillerLine(cfg.preambleWords, n + 4, ver) + prompt.separator + text;
      }
    }
    docs.push({ kind: "verification", prompt: text, completion: verdict });
  }
  return rng.fork("corpus:order").shuffle(docs);
}
