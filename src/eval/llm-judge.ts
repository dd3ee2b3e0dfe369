/** LLM judges: a rubric prompt + a zod schema sent to a provider; malformed answers are retried, then left unscored. */
import type { z } from "zod";
import type { Prompt } from "../data/text-model.js";
import { StructuredOutputError } from "../providers/errors.js";
import type { StructuredOptions, StructuredResult } from "../providers/provider-text-model.js";
import type { Judge, JudgeItem, JudgeResult } from "./judge.js";
import { unscored } from "./judge.js";
import type { Metric } from "./metric.js";

/** What an LLM judge needs from a model: structured generation (`ProviderTextModel` has it). */
export interface StructuredModel {
  readonly id: string;
  generateStructured<T>(
    prompt: Prompt,
    schema: z.ZodType<T>,
    options?: StructuredOptions,
  ): Promise<StructuredResult<T>>;
}

/** Thrown by `toResult` when an answer fits the schema but not the rubric's rules; it is retried like bad JSON. */
export class JudgeAnswerError extends Error {
  override name = "JudgeAnswerError";
}

export interface LlmJudgeDefinition<T> {
  name: string;
  model: StructuredModel;
  /** Schema of the judge's answer (also sent to the server when it supports JSON schemas). */
  schema: z.ZodType<T>;
  /** The rubric prompt for one item. */
  render: (item: JudgeItem) => Prompt;
  /** Turns a valid answer into a result (score, grade, rationale...); may throw JudgeAnswerError. */
  toResult: (answer: T, item: JudgeItem) => Omit<JudgeResult, "raw" | "unscoredReason">;
  scoreRange?: readonly [number, number];
  lowerIsBetter: boolean;
  metrics: Record<string, Metric>;
  /** Tries per item before it is recorded as unscored (default 3). */
  attempts?: number;
  /** Judge temperature (default 0.2, as in the seed's judge). */
  temperature?: number;
  maxTokens?: number;
  /** Schema name for providers that use one (OpenAI json_schema name, Anthropic tool name). */
  schemaName?: string;
}

/**
 * Builds a Judge that asks `model` for a structured verdict on each item. Items are sent concurrently; the provider's
 * `concurrency` setting bounds the requests in flight. An answer that is not valid JSON for the schema (or that
 * `toResult` rejects) is asked for again up to `attempts` times, then the item is recorded as unscored with the
 * reason and every raw answer; it is never replaced by a default score. Provider failures (server down, HTTP errors
 * after the provider's own retries) are not judge verdicts and are thrown.
 */
export function createLlmJudge<T>(def: LlmJudgeDefinition<T>): Judge {
  const attempts = def.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new RangeError(`LLM judge "${def.name}": attempts must be a positive integer, got ${attempts}`);

  async function judgeOne(item: JudgeItem, index: number, signal?: AbortSignal): Promise<JudgeResult> {
    const prompt = def.render(item);
    const raws: string[] = [];
    const errors: string[] = [];
    for (let attempt = 1; attempt <= attempts; attempt++) {
      signal?.throwIfAborted();
      try {
        const answer = await def.model.generateStructured(prompt, def.schema, {
          temperature: def.temperature ?? 0.2,
          maxTokens: def.maxTokens,
          name: def.schemaName,
          abortSignal: signal,
        });
        raws.push(answer.raw);
        const result = def.toResult(answer.value, item);
        const range = def.scoreRange;
        if (result.score !== null && range && !(result.score >= range[0] && result.score <= range[1]))
          throw new JudgeAnswerError(`score ${result.score} is outside the scale [${range[0]}, ${range[1]}]`);
        return { ...result, raw: raws.length === 1 ? raws[0] : raws };
      } catch (error) {
        if (error instanceof StructuredOutputError) {
          raws.push(error.raw);
          errors.push(error.message);
        } else if (error instanceof JudgeAnswerError) {
          errors.push(error.message);
        } else throw error;
      }
    }
    const where = item.id !== undefined ? `item ${item.id}` : `item ${index}`;
    return unscored(
      `judge "${def.name}"${def.name.includes(def.model.id) ? "" : ` (${def.model.id})`}, ${where}: no valid answer in ${attempts} attempt(s); last error: ${errors[errors.length - 1]}`,
      raws,
    );
  }

  return {
    name: def.name,
    scoreRange: def.scoreRange,
    lowerIsBetter: def.lowerIsBetter,
    metrics: def.metrics,
    async judge(items, options) {
      let done = 0;
      // allSettled, then rethrow: a failure never leaves other requests running behind the caller's back.
      const settled = await Promise.allSettled(
        items.map(async (item, i) => {
          const r = await judgeOne(item, i, options?.abortSignal);
          options?.onProgress?.(++done, items.length);
          return r;
        }),
      );
      return settled.map((s) => {
        if (s.status === "rejected") throw s.reason;
        return s.value;
      });
    },
  };
}
