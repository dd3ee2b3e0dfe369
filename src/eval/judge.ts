/** The judge contract (Inspect-AI style): a factory builds a Judge; it scores items and declares its default metrics. */
import type { Prompt } from "../data/text-model.js";
import type { Metric } from "./metric.js";
import type { JudgeResult } from "./judge-result.js";
export { GRADES, type Grade, type JudgeResult } from "./judge-result.js";

/** What is judged: the model's output, the prompt that produced it, and task data the judge may need. */
export interface JudgeItem {
  /** Stable id (e.g. the topic id), used for pairing and error messages. */
  id?: string;
  /** The prompt the model saw (optional: many judges only look at the output). */
  prompt?: Prompt;
  /** The text to judge. */
  output: string;
  /** Task-specific reference data (ground truth for embedded judges). */
  target?: unknown;
  /** Anything else (topic, label, arm...). */
  metadata?: Record<string, unknown>;
}

/** A built judge. `judge` scores items in order; the result array has one entry per item. */
export interface Judge {
  /** Short name, e.g. "llm-bias:openai:gpt-4o-mini" or "synthetic-news". */
  readonly name: string;
  /** Range of `score`, inclusive, when the judge has one (for report axes and range checks). */
  readonly scoreRange?: readonly [number, number];
  /** Whether a lower score is better (true for bias). */
  readonly lowerIsBetter: boolean;
  /** Metrics the report computes by default over this judge's results, by name. */
  readonly metrics: Readonly<Record<string, Metric>>;
  judge(items: readonly JudgeItem[], options?: JudgeOptions): Promise<JudgeResult[]>;
}

export interface JudgeOptions {
  /** Called after each finished item with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Cancels outstanding work (remote judges). */
  abortSignal?: AbortSignal;
}

/** Declaration passed to `defineJudge`; `score` judges one item (sync or async). */
export interface JudgeDefinition {
  name: string;
  scoreRange?: readonly [number, number];
  lowerIsBetter: boolean;
  metrics: Record<string, Metric>;
  score: (item: JudgeItem, index: number) => JudgeResult | Promise<JudgeResult>;
}

/**
 * Builds a Judge from a per-item scoring function (items are scored one after another, in order).
 *
 * ```ts
 * const judge = defineJudge({ name: "exact", lowerIsBetter: false, metrics: { accuracy: meanMetric() },
 *   score: (it) => ({ score: it.output === it.target ? 1 : 0, grade: null, rationale: "exact match" }) });
 * ```
 */
export function defineJudge(def: JudgeDefinition): Judge {
  return {
    name: def.name,
    scoreRange: def.scoreRange,
    lowerIsBetter: def.lowerIsBetter,
    metrics: def.metrics,
    async judge(items, options) {
      const out: JudgeResult[] = [];
      for (let i = 0; i < items.length; i++) {
        options?.abortSignal?.throwIfAborted();
        out.push(checkResult(await def.score(items[i], i), def, i));
        options?.onProgress?.(i + 1, items.length);
      }
      return out;
    },
  };
}

/** A result for an item that could not be scored; the reason is kept. */
export function unscored(reason: string, raw?: unknown): JudgeResult {
  return { score: null, grade: null, rationale: reason, unscoredReason: reason, raw };
}

/** Counts scored and unscored results (for reports: "n scored, k unscored"). */
export function countUnscored(results: readonly JudgeResult[]): { scored: number; unscored: number } {
  let unscoredN = 0;
  for (const r of results) if (r.score === null && r.grade === null) unscoredN++;
  return { scored: results.length - unscoredN, unscored: unscoredN };
}

/** Thrown when a judge returns something that breaks the contract (a judge bug, not a model failure). */
export class JudgeContractError extends Error {
  override name = "JudgeContractError";
}

function checkResult(r: JudgeResult, def: JudgeDefinition, index: number): JudgeResult {
  if (r.score !== null) {
    if (!Number.isFinite(r.score))
      throw new JudgeContractError(`judge "${def.name}" item ${index}: score ${r.score} is not finite`);
    const range = def.scoreRange;
    if (range && (r.score < range[0] || r.score > range[1]))
      throw new JudgeContractError(
        `judge "${def.name}" item ${index}: score ${r.score} is outside the declared range [${range[0]}, ${range[1]}]`,
      );
  }
  return r;
}
