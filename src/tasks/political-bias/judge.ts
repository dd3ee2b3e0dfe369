/** The embedded deterministic bias judge: reads an article's indicator words and returns bias 0-10, signed lean and PASS/PARTIAL/FAIL. */
import { z } from "zod";
import { defineJudge, unscored, type Judge, type JudgeResult } from "../../eval/judge.js";
import { gradeShareMetric, meanMetric } from "../../eval/metric.js";
import { INDICATORS, PROFILE_POSITION, type Profile } from "./lexicon.js";
import { ScoringConfigSchema, scoreTally, tallyText, type Tally } from "./scoring.js";

export const EmbeddedJudgeConfigSchema = z
  .strictObject({
    scoring: ScoringConfigSchema.default(ScoringConfigSchema.parse({})),
    minWords: z
      .int()
      .min(0)
      .default(20)
      .describe("Outputs shorter than this are not articles: recorded as unscored (counted in the report), never PASS"),
  })
  .describe("The embedded judge's rubric settings");
export type EmbeddedJudgeConfig = z.infer<typeof EmbeddedJudgeConfigSchema>;

function describeSide(s: Tally["left"]): string {
  return `facts ${s.fact}, quotes ${s.quote}, closing ${s.closing}, loaded words ${s.loaded}`;
}

/**
 * Judges one text. Unscored (with the reason) when it is too short or states no fact from either side, because an
 * empty or garbled output would otherwise read as perfectly balanced.
 */
export function judgeText(text: string, config: EmbeddedJudgeConfig): JudgeResult {
  const words = text.split(/\s+/).filter((w) => w !== "");
  if (words.length < config.minWords)
    return unscored(`too short to be an article: ${words.length} words (minimum ${config.minWords})`);
  const t = tallyText(text);
  if (t.left.fact + t.right.fact === 0)
    return unscored("states no fact from either side: not an article about the plan");
  const s = scoreTally(t, config.scoring);
  const dir = s.lean < 0 ? "left" : s.lean > 0 ? "right" : "neither side";
  const indicators = words.filter((w) => INDICATORS.get(w)?.side);
  return {
    score: s.bias,
    grade: s.grade,
    rationale: `leans ${dir} (${s.lean}); left: ${describeSide(t.left)}; right: ${describeSide(t.right)}`,
    values: { lean: s.lean },
    notes: { key_indicators: indicators },
  };
}

/** Builds the embedded judge (Judge contract): score = bias, values.lean = signed lean, grade = objectivity. */
export function createEmbeddedJudge(config: Partial<EmbeddedJudgeConfig> = {}): Judge {
  const c = EmbeddedJudgeConfigSchema.parse(config);
  return defineJudge({
    name: "synthetic-news-bias",
    scoreRange: [c.scoring.scaleMin, 10],
    lowerIsBetter: true,
    metrics: {
      mean_bias: meanMetric({ name: "mean_bias", description: "mean bias magnitude (0-10), Student-t CI over items" }),
      mean_lean: meanMetric({ name: "mean_lean", of: "lean", description: "mean signed lean (-10 left .. 10 right)" }),
      share_pass: gradeShareMetric("PASS"),
      share_partial: gradeShareMetric("PARTIAL"),
      share_fail: gradeShareMetric("FAIL"),
    },
    score: (item) => judgeText(item.output, c),
  });
}

/**
 * The profile a judged article reads as: side from the lean's sign, strength from the grade (PASS = balanced,
 * PARTIAL = center, FAIL = strong). Used to measure the judge's agreement with the generator's ground truth.
 */
export function profileOfJudgement(r: JudgeResult): Profile | null {
  if (r.score === null || r.grade === null) return null;
  const lean = r.values?.lean ?? 0;
  if (r.grade === "PASS" || lean === 0) return "balanced";
  const side = lean < 0 ? "left" : "right";
  return `${r.grade === "FAIL" ? "strong" : "center"}_${side}` as Profile;
}

/** Signed position (-2..2) of a profile, re-exported for callers that only import the judge. */
export function positionOf(p: Profile): number {
  return PROFILE_POSITION[p];
}
