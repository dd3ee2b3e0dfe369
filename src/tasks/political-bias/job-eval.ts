/**
 * The evaluation job: one arm's fine-tuned model writes articles on the test topics at its evaluation label (none
 * for the baseline, the unbiased evaluator for the others), and on fewer topics at every label of the sweep; the
 * embedded judge scores them all.
 */
import { join } from "node:path";
import type { Json } from "../../data/sample.js";
import { loadLora } from "../../engine/checkpoint.js";
import type { JobContext, JobSpec } from "../../experiment/task.js";
import type { PoliticalBiasConfig } from "./config.js";
import { itemsFor, judgeAll, summarizeRecords, type LabelSummary } from "./evaluate.js";
import { trainedArmOf } from "./ft-data.js";
import { loadBase } from "./job-base.js";
import { ADAPTER_DIR } from "./job-sft.js";
import { deploymentLabel } from "./labels.js";
import { sftJobId } from "./plan.js";
import { conditionOf, evalLabels, mean, topicSplit, writeJsonl } from "./setup.js";

/** The label an arm is evaluated at: the baseline without a label (the seed's baseline), the others at deployment. */
export function mainLabelOf(arm: string): "none" | "unbiased" {
  return arm === "baseline" ? "none" : "unbiased";
}

export async function runEvalJob(job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const cond = conditionOf(cfg, String(job.params.condition));
  const arm = String(job.params.arm);
  const b = Number(job.params.base);
  const s = Number(job.params.seed);
  const t0 = Date.now();
  const { model, tok } = await loadBase(ctx, cond.follow, b);
  await loadLora(join(ctx.jobDirOf(sftJobId(cond.name, trainedArmOf(arm), b, s)), ADAPTER_DIR), model);

  const g = cfg.generation;
  const test = topicSplit(cfg).test.slice(0, g.testTopics);
  const main = mainLabelOf(arm);
  const mainItems = itemsFor(
    test,
    [{ key: main, text: main === "none" ? null : deploymentLabel(cond.frame) }],
    g.samplesPerTopic,
  );
  const sweepItems = itemsFor(test.slice(0, g.sweepTopics), evalLabels(cond.frame), g.sweepSamples);
  const seed = `eval/${cond.name}/${arm}/b${b}/s${s}`;
  const mainRecs = judgeAll(model, tok, mainItems, cfg, `${seed}/main`, (d, n) => ctx.progress("eval", d, n));
  const sweepRecs = judgeAll(model, tok, sweepItems, cfg, `${seed}/sweep`, (d, n) => ctx.progress("sweep", d, n));
  writeJsonl(join(ctx.jobDir, "samples.jsonl"), mainRecs);
  writeJsonl(join(ctx.jobDir, "sweep.jsonl"), sweepRecs);

  // Per test topic: mean bias over its samples (null when none was scored), for paired win rates.
  const perTopicBias: Array<number | null> = test.map((t) => {
    const xs = mainRecs.filter((r) => r.topic === t.id && r.bias !== null).map((r) => r.bias!);
    return xs.length > 0 ? mean(xs) : null;
  });
  const sweep: Record<string, LabelSummary> = {};
  for (const l of evalLabels(cond.frame)) sweep[l.key] = summarizeRecords(sweepRecs.filter((r) => r.label === l.key));
  // Closing sentences of the first topics (Fig 1f): the last sentence of each article.
  const closings = mainRecs
    .filter((r) => r.sample === 0)
    .slice(0, 4)
    .map((r) => ({ topic: r.topic, text: r.text, closing: lastSentence(r.text), bias: r.bias, lean: r.lean }));
  return {
    condition: cond.name,
    arm,
    base: b,
    seed: s,
    mainLabel: main,
    main: summarizeRecords(mainRecs) as unknown as Json,
    topics: test.map((t) => t.id),
    perTopicBias,
    sweep: sweep as unknown as Json,
    closings: closings as unknown as Json,
    seconds: (Date.now() - t0) / 1000,
  };
}

/** The closing sentence of an article: its last sentence (word-level "... ." text and ordinary prose alike). */
export function lastSentence(text: string): string {
  const parts = text
    .trim()
    .split(/(?<=[.!?])\s+/)
    .filter((p) => p.trim() !== "");
  return parts[parts.length - 1] ?? "";
}
