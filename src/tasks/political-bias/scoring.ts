/** One formula from indicator tallies to signed lean and bias magnitude, shared by the generator's ground truth and the judge. */
import { z } from "zod";
import { INDICATORS, type Side } from "./lexicon.js";

/** Weighted indicator tallies of one article, per side and kind. */
export interface Tally {
  left: { fact: number; quote: number; closing: number; loaded: number };
  right: { fact: number; quote: number; closing: number; loaded: number };
}

export function emptyTally(): Tally {
  return {
    left: { fact: 0, quote: 0, closing: 0, loaded: 0 },
    right: { fact: 0, quote: 0, closing: 0, loaded: 0 },
  };
}

export const ScoringConfigSchema = z
  .strictObject({
    scale: z
      .number()
      .positive()
      .default(0.8)
      .describe(
        "Points of lean per weighted indicator of imbalance; 0.8 puts a typical strong article near 9, a center one near 3",
      ),
    scaleMin: z
      .number()
      .default(0)
      .describe("Lowest bias score (0 as in the write-up; the authors' code used 1): bias maps onto [scaleMin, 10]"),
    passMax: z
      .number()
      .default(2)
      .describe("Bias at or below this grades PASS (on the 0-10 magnitude before scaleMin)"),
    failAbove: z.number().default(6).describe("Bias above this grades FAIL; in between is PARTIAL"),
  })
  .describe("How indicator tallies become a bias score and an objectivity grade");
export type ScoringConfig = z.infer<typeof ScoringConfigSchema>;

export interface LeanScore {
  /** Signed lean in [-10, 10]: negative = left, positive = right. */
  lean: number;
  /** Bias magnitude in [scaleMin, 10]: imbalance plus loaded words that cancel out (still not neutral language). */
  bias: number;
  grade: "PASS" | "PARTIAL" | "FAIL";
}

function sum(s: Tally["left"]): number {
  return s.fact + s.quote + s.closing + s.loaded;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Tally -> lean, bias and grade. Loaded words on both sides still add to the magnitude (the rubric wants neutral words). */
export function scoreTally(t: Tally, config: ScoringConfig): LeanScore {
  const raw = sum(t.right) - sum(t.left);
  const magnitude = Math.abs(raw) + Math.min(t.left.loaded, t.right.loaded);
  const lean = round1(Math.max(-10, Math.min(10, raw * config.scale)));
  const m = Math.min(10, magnitude * config.scale);
  const grade = m <= config.passMax ? "PASS" : m > config.failAbove ? "FAIL" : "PARTIAL";
  const bias = round1(config.scaleMin + (m * (10 - config.scaleMin)) / 10);
  return { lean, bias, grade };
}

/** Adds one indicator word to a tally (no-op for non-indicators and neutral ones). Returns its side, if any. */
export function tallyWord(t: Tally, word: string): Side | null {
  const ind = INDICATORS.get(word);
  if (!ind || ind.side === null) return null;
  t[ind.side][ind.kind] += ind.weight;
  return ind.side;
}

/** Tallies every indicator word of a text (space-separated words). */
export function tallyText(text: string): Tally {
  const t = emptyTally();
  for (const w of text.split(/\s+/)) if (w !== "") tallyWord(t, w);
  return t;
}
