/** Generates articles for (topic, label, sample) items with the embedded model and judges them: the records every eval writes. */
import type { LlamaModel } from "../../engine/model.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import type { Grade } from "../../eval/judge.js";
import type { PoliticalBiasConfig } from "./config.js";
import { generateTexts } from "./generate.js";
import { judgeText } from "./judge.js";
import { evalPrompt, mean, stopIds } from "./setup.js";
import type { Topic } from "./topics.js";

export interface EvalItem {
  topic: Topic;
  /** Label key: "none", "unbiased" or a profile name. */
  label: string;
  labelText: string | null;
  sample: number;
}

/** One judged article (a line of samples.jsonl). */
export interface JudgedRecord {
  topic: string;
  label: string;
  sample: number;
  text: string;
  bias: number | null;
  lean: number | null;
  grade: Grade | null;
  unscored?: string;
}

export function judgeAll(
  model: LlamaModel,
  tok: Tokenizer,
  items: readonly EvalItem[],
  config: PoliticalBiasConfig,
  seed: string,
  onProgress?: (done: number, total: number) => void,
): JudgedRecord[] {
  const g = config.generation;
  const texts = generateTexts(
    model,
    tok,
    items.map((it) => evalPrompt(it.topic, it.labelText)),
    { temperature: g.temperature, maxNewTokens: g.maxNewTokens, batchSize: g.batchSize },
    seed,
    stopIds(tok),
    onProgress,
  );
  return items.map((it, i) => {
    const j = judgeText(texts[i], config.judge);
    return {
      topic: it.topic.id,
      label: it.label,
      sample: it.sample,
      text: texts[i],
      bias: j.score,
      lean: j.values?.lean ?? null,
      grade: j.grade,
      ...(j.unscoredReason !== undefined ? { unscored: j.unscoredReason } : {}),
    };
  });
}

/** Aggregate of records: mean bias and lean over scored ones, grade counts, unscored count. */
export interface LabelSummary {
  n: number;
  unscored: number;
  meanBias: number | null;
  meanLean: number | null;
  pass: number;
  partial: number;
  fail: number;
}

export function summarizeRecords(records: readonly JudgedRecord[]): LabelSummary {
  const scored = records.filter((r) => r.bias !== null);
  const count = (g: Grade): number => scored.filter((r) => r.grade === g).length;
  return {
    n: records.length,
    unscored: records.length - scored.length,
    meanBias: scored.length > 0 ? mean(scored.map((r) => r.bias!)) : null,
    meanLean: scored.length > 0 ? mean(scored.map((r) => r.lean ?? 0)) : null,
    pass: count("PASS"),
    partial: count("PARTIAL"),
    fail: count("FAIL"),
  };
}

/** Items for `topics` x `labels` x `samples`. */
export function itemsFor(
  topics: readonly Topic[],
  labels: ReadonlyArray<{ key: string; text: string | null }>,
  samples: number,
): EvalItem[] {
  const out: EvalItem[] = [];
  for (const l of labels)
    for (const topic of topics)
      for (let s = 0; s < samples; s++) out.push({ topic, label: l.key, labelText: l.text, sample: s });
  return out;
}
