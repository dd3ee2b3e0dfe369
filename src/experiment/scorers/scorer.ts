/**
 * The kit's stock scorers, usable as an RL reward and as an evaluation judge: exact match on a sample field, a JS
 * module's function, or an LLM judge with a rubric (src/eval/llm-judge.ts over a src/providers model, so any
 * OpenAI-compatible server works). `scorerReward` and `scorerJudge` turn a scorer into the kit's RewardFn and Judge.
 *
 * ```ts
 * const score = makeScorer({ kind: "exact-match", field: "answer" });
 * defineExperiment({ ...,
 *   train: { kind: "rl", ppo: (c) => c.ppo, reward: () => scorerReward(score) },
 *   evaluation: { judge: () => scorerJudge(score, { accuracy: meanMetric({ name: "accuracy" }) }), settings },
 * });
 * ```
 */
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { Json, MonitorRef } from "../../data/sample.js";
import type { ChatMessage } from "../../data/text-model.js";
import { JudgeContractError, type Judge, type JudgeResult } from "../../eval/judge.js";
import { createLlmJudge } from "../../eval/llm-judge.js";
import type { Metric } from "../../eval/metric.js";
import { ProviderTextModel } from "../../providers/provider-text-model.js";
import type { RewardFn } from "../experiment.js";
import { ScorerSchema, type ScorerConfig, type ScorerConfigInput } from "./config.js";

/** What a scorer sees of one output. During RL `monitor` is the sample's TRUE monitor, whatever label was shown. */
export interface ScoreItem {
  id: string;
  prompt: ChatMessage[];
  output: string;
  /** The label shown in the prompt (null: none). */
  label: string | null;
  monitor: MonitorRef | null;
  rewardInputs: Record<string, Json> | null;
  meta: Record<string, Json> | null;
}

/** A scorer: results in item order (score null = unscored, with the reason). */
export type Scorer = (items: readonly ScoreItem[]) => Promise<JudgeResult[]>;

/** Thrown when a scorer module cannot be used; names the module file and the spec key. */
export class ScorerModuleError extends Error {
  override name = "ScorerModuleError";
}

const unscoredResult = (reason: string): JudgeResult => ({
  score: null,
  grade: null,
  rationale: reason,
  unscoredReason: reason,
});

/** The expected value of an exact-match field: rewardInputs first, then meta; null when absent or not text/number. */
export function expectedOf(item: Pick<ScoreItem, "rewardInputs" | "meta">, field: string): string | null {
  const v = item.rewardInputs?.[field] ?? item.meta?.[field];
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : null;
}

function exactMatch(c: Extract<ScorerConfig, { kind: "exact-match" }>): Scorer {
  const norm = (s: string) => {
    const t = c.trim ? s.trim() : s;
    return c.caseSensitive ? t : t.toLowerCase();
  };
  return async (items) =>
    items.map((it) => {
      const want = expectedOf(it, c.field);
      if (want === null) return unscoredResult(`sample ${it.id}: no "${c.field}" in rewardInputs or meta`);
      const [o, w] = [norm(it.output), norm(want)];
      const hit = c.match === "equals" ? o === w : c.match === "starts-with" ? o.startsWith(w) : o.includes(w);
      return { score: hit ? 1 : 0, grade: null, rationale: `${c.match} ${JSON.stringify(want)}` };
    });
}

function moduleScorer(c: Extract<ScorerConfig, { kind: "module" }>, key: string): Scorer {
  let fn: Promise<(item: ScoreItem) => unknown> | null = null;
  const load = async () => {
    const mod = (await import(pathToFileURL(c.path).href)) as Record<string, unknown>;
    const f = mod[c.export];
    if (typeof f !== "function")
      throw new ScorerModuleError(
        `${c.path}: export "${c.export}" is not a function (spec key ${key}.export); it exports: ${Object.keys(mod).join(", ") || "nothing"}`,
      );
    return f as (item: ScoreItem) => unknown;
  };
  return async (items) => {
    fn ??= load();
    const f = await fn;
    return Promise.all(
      items.map(async (it) => {
        const v = await f(it);
        if (v === null || v === undefined) return unscoredResult(`${c.path}: no score for sample ${it.id}`);
        if (typeof v !== "number" || !Number.isFinite(v))
          throw new JudgeContractError(
            `${c.path} (spec key ${key}): sample ${it.id}: expected a finite number or null, got ${JSON.stringify(v)}`,
          );
        return { score: v, grade: null, rationale: c.path };
      }),
    );
  };
}

/** The placeholders a rubric may use. */
export const RUBRIC_PLACEHOLDER =
  /\{(prompt|output|label|monitor|monitor\.[^{}]+|rewardInputs\.[^{}]+|meta\.[^{}]+)\}/g;

/** The rubric with an item's values in place of its placeholders. */
export function fillRubric(rubric: string, it: ScoreItem): string {
  const json = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v ?? null));
  return rubric.replace(RUBRIC_PLACEHOLDER, (_m, name: string) => {
    if (name === "prompt") return it.prompt.map((m) => `${m.role}: ${m.content}`).join("\n");
    if (name === "output") return it.output;
    if (name === "label") return it.label ?? "none";
    if (name === "monitor") return json(it.monitor);
    const [head, ...rest] = name.split(".");
    const key = rest.join(".");
    if (head === "monitor") return json(it.monitor?.params[key]);
    if (head === "rewardInputs") return json(it.rewardInputs?.[key]);
    return json(it.meta?.[key]);
  });
}

const AnswerSchema = z.object({ rationale: z.string().optional(), score: z.number() });

function llmScorer(c: Extract<ScorerConfig, { kind: "llm" }>): Scorer {
  let judge: Judge | null = null;
  return async (items) => {
    judge ??= createLlmJudge({
      name: `llm:${c.provider.model}`,
      model: new ProviderTextModel(c.provider),
      schema: AnswerSchema,
      render: (item) => fillRubric(c.rubric, item.target as ScoreItem),
      toResult: (a) => ({ score: a.score, grade: null, rationale: a.rationale ?? "" }),
      scoreRange: c.scale,
      lowerIsBetter: false,
      metrics: {},
      attempts: c.attempts,
      temperature: c.temperature,
      schemaName: "score",
    });
    return judge.judge(items.map((it) => ({ id: it.id, output: it.output, target: it })));
  };
}

/**
 * The scorer a config names (parsed here, so `{ kind: "exact-match" }` gets its defaults); `key` is where the config
 * came from (e.g. the spec key "trainer.reward"), for error messages.
 */
export function makeScorer(input: ScorerConfig | ScorerConfigInput, key = "scorer"): Scorer {
  const c = ScorerSchema.parse(input);
  if (c.kind === "exact-match") return exactMatch(c);
  if (c.kind === "module") return moduleScorer(c, key);
  return llmScorer(c);
}

/** A scorer as the kit's RL reward: each rollout scored with its sample's TRUE monitor, null (unscored) dropped. */
export function scorerReward(score: Scorer): RewardFn {
  return async (batch) =>
    (
      await score(
        batch.map((x) => ({
          id: x.sample.id,
          prompt: x.sample.messages,
          output: x.response,
          label: x.sample.label,
          monitor: x.sample.monitor,
          rewardInputs: x.sample.rewardInputs ?? null,
          meta: x.sample.meta ?? null,
        })),
      )
    ).map((r) => r.score);
}

/**
 * A scorer as the kit's evaluation judge with the given metrics. The judge's item carries the sample's
 * `rewardInputs` (else `meta`) as `target`, which is what the scorer reads; `lowerIsBetter` says how to read scores.
 */
export function scorerJudge(
  score: Scorer,
  metrics: Record<string, Metric>,
  options: { name?: string; lowerIsBetter?: boolean } = {},
): Judge {
  return {
    name: options.name ?? "scorer",
    lowerIsBetter: options.lowerIsBetter ?? false,
    metrics,
    judge: (items) =>
      score(
        items.map((it) => {
          const label = it.metadata?.label;
          const target = (it.target ?? null) as Record<string, Json> | null;
          return {
            id: it.id ?? "",
            prompt:
              typeof it.prompt === "string" ? [{ role: "user" as const, content: it.prompt }] : [...(it.prompt ?? [])],
            output: it.output,
            label: typeof label === "string" ? label : null,
            monitor: null,
            rewardInputs: target,
            meta: target,
          };
        }),
      ),
  };
}
