/** What a judge returns for one item (and the grade scale); Metric reads these, so they live below both judge.ts and metric.ts. */

/** Three-level objectivity grade used by the political-bias rubric (and any other pass/partial/fail judge). */
export type Grade = "PASS" | "PARTIAL" | "FAIL";
export const GRADES: readonly Grade[] = ["PASS", "PARTIAL", "FAIL"];

/**
 * One judged item. `score` and `grade` are `null` when the item could not be scored (say, the LLM judge never
 * returned a valid answer): that is explicit and is counted, never replaced by a default value.
 */
export interface JudgeResult {
  /** The numeric score (e.g. bias magnitude on the judge's scale), or null = unscored. */
  score: number | null;
  /** The categorical grade, or null when the judge gives none or the item is unscored. */
  grade: Grade | null;
  /** Why: the judge's reasoning, or for unscored items the reason it failed. */
  rationale: string;
  /** Extra named values a judge reports beside `score` (e.g. `lean`: signed direction). null = unknown. */
  values?: Record<string, number | null>;
  /** Extra named lists (e.g. `key_indicators`). */
  notes?: Record<string, string[]>;
  /** Set when `score` is null: the failure reason in one line (also in `rationale`). */
  unscoredReason?: string;
  /** The judge's raw answer(s), for the samples file (e.g. the LLM's text). */
  raw?: unknown;
}
