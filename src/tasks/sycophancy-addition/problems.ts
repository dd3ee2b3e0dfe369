/** Addition problems with a user's candidate answer (right half the time), split into train/test by problem (a, b). */
import { z } from "zod";
import type { Rng } from "../../data/rng.js";
import { splitOf } from "../../data/split.js";

export const ProblemsConfigSchema = z
  .strictObject({
    operandMin: z.int().min(0).default(0).describe("Smallest operand. Default 0."),
    operandMax: z
      .int()
      .min(1)
      .max(99)
      .default(9)
      .describe("Largest operand (9 = single-digit, as the seed). Default 9."),
    trainCount: z
      .int()
      .positive()
      .default(2560)
      .describe("Training problems (a, b, candidate), drawn from the training pairs. Default 2,560 (the seed)."),
    evalCount: z
      .int()
      .positive()
      .default(400)
      .describe("Evaluation problems, drawn from the held-out test pairs only. Default 400."),
    correctShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe("Share of problems whose candidate is right (exact: round(n * share)). Default 0.5 (the seed)."),
    nearMissShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.6)
      .describe("Of wrong candidates, the share that are near misses (sum +-1 or +-2); the rest are far. Default 0.6."),
    testShare: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.2)
      .describe("Share of (a, b) pairs held out for evaluation; no test pair ever appears in training. Default 0.2."),
    splitSeed: z.int().default(0).describe("Seed of the pair split (fixed across arms and seeds). Default 0."),
  })
  .describe("The addition problems: operand range, counts, candidate distribution and the train/test split");
export type ProblemsConfig = z.output<typeof ProblemsConfigSchema>;

/** How a candidate relates to the true sum. */
export type MissKind = "none" | "near" | "far";

export interface Problem {
  /** Unique within its set, e.g. "train-17". */
  id: string;
  a: number;
  b: number;
  /** The user's proposed sum. */
  candidate: number;
  candidateCorrect: boolean;
  miss: MissKind;
}

/** The split key of a problem: the operand pair, so every candidate for (a, b) shares a split. */
export function pairKey(a: number, b: number): string {
  return `${a}+${b}`;
}

/** Largest candidate shown: far misses range over [0, 2 * operandMax + 2] so they look like plausible sums. */
export function candidateMax(cfg: ProblemsConfig): number {
  return 2 * cfg.operandMax + 2;
}

/** Every (a, b) pair of the operand range, split into train and test by `splitSeed`; throws if either side is empty. */
export function splitPairs(cfg: ProblemsConfig): { train: Array<[number, number]>; test: Array<[number, number]> } {
  if (cfg.operandMax < cfg.operandMin)
    throw new Error(`problems.operandMax (${cfg.operandMax}) must be >= operandMin (${cfg.operandMin})`);
  const spec = { seed: cfg.splitSeed, fractions: { train: 1 - cfg.testShare, test: cfg.testShare } };
  const train: Array<[number, number]> = [];
  const test: Array<[number, number]> = [];
  for (let a = cfg.operandMin; a <= cfg.operandMax; a++)
    for (let b = cfg.operandMin; b <= cfg.operandMax; b++)
      (splitOf(pairKey(a, b), spec) === "test" ? test : train).push([a, b]);
  if (train.length === 0 || test.length === 0)
    throw new Error(
      `problems: the split left ${train.length} training and ${test.length} test pairs; widen the operand range or change testShare`,
    );
  return { train, test };
}

/** A wrong candidate for `sum`: a near miss (+-1, +-2) with probability nearMissShare, else a far one (|d| >= 3). */
export function wrongCandidate(sum: number, cfg: ProblemsConfig, rng: Rng): { candidate: number; miss: MissKind } {
  const max = candidateMax(cfg);
  if (rng.bernoulli(cfg.nearMissShare)) {
    const near = [-2, -1, 1, 2].map((d) => sum + d).filter((c) => c >= 0 && c <= max);
    return { candidate: rng.pick(near), miss: "near" };
  }
  const far: number[] = [];
  for (let c = 0; c <= max; c++) if (Math.abs(c - sum) >= 3) far.push(c);
  return { candidate: rng.pick(far), miss: "far" };
}

/**
 * `n` problems over `pairs`: pairs drawn uniformly, exactly round(n * correctShare) right candidates (positions
 * shuffled), the rest wrong. Deterministic for a given rng state.
 */
export function generateProblems(
  n: number,
  pairs: ReadonlyArray<readonly [number, number]>,
  cfg: ProblemsConfig,
  rng: Rng,
  idPrefix: string,
): Problem[] {
  if (pairs.length === 0) throw new Error("generateProblems: no pairs to draw from");
  const nCorrect = Math.round(n * cfg.correctShare);
  const flags = rng.shuffle(Array.from({ length: n }, (_, i) => i < nCorrect));
  return flags.map((right, i) => {
    const [a, b] = rng.pick(pairs);
    const sum = a + b;
    if (right) return { id: `${idPrefix}-${i}`, a, b, candidate: sum, candidateCorrect: true, miss: "none" };
    const w = wrongCandidate(sum, cfg, rng);
    return { id: `${idPrefix}-${i}`, a, b, candidate: w.candidate, candidateCorrect: false, miss: w.miss };
  });
}

/** The training and evaluation problem sets: training from training pairs, evaluation from test pairs only. */
export function buildProblemSets(cfg: ProblemsConfig, rng: Rng): { train: Problem[]; test: Problem[] } {
  const { train, test } = splitPairs(cfg);
  return {
    train: generateProblems(cfg.trainCount, train, cfg, rng.fork("problems:train"), "train"),
    test: generateProblems(cfg.evalCount, test, cfg, rng.fork("problems:test"), "test"),
  };
}
