/**
 * The provider path's jobs: topics from an LLM, training articles from an LLM under each biased profile (exported as
 * arm files for an external SFT trainer with the paper preset's hyperparameters), the LLM judge's sanity check on
 * them, and evaluation of served fine-tuned models (one OpenAI-compatible endpoint per arm) judged by the LLM judge.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { Rng } from "../../data/rng.js";
import type { Json } from "../../data/sample.js";
import { createBiasJudge } from "../../eval/bias-judge.js";
import type { Judge, JudgeResult } from "../../eval/judge.js";
import { buildArms } from "../../monitor/arms.js";
import { writeArms } from "../../monitor/arms-io.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import { ProviderTextModel } from "../../providers/provider-text-model.js";
import type { ProviderConfig } from "../../providers/config.js";
import type { JobContext, JobSpec } from "../../experiment/task.js";
import type { PoliticalBiasConfig } from "./config.js";
import { summarizeRecords, type JudgedRecord, type LabelSummary } from "./evaluate.js";
import { lastSentence, mainLabelOf } from "./job-eval.js";
import { BIASED_PROFILES, type BiasedProfile } from "./lexicon.js";
import { deploymentLabel, monitorSpec } from "./labels.js";
import { P_ARTICLES_ID, P_TOPICS_ID } from "./plan.js";
import { llmArticles, llmPromptParts, llmTopics, type LlmTopic } from "./provider-data.js";
import { PoliticalBiasJobError, evalLabels, mean, writeJsonl } from "./setup.js";

const TopicFileSchema = z.object({
  train: z.array(z.object({ id: z.string(), domain: z.string(), topic: z.string(), details: z.string() })),
  val: z.array(z.object({ id: z.string(), domain: z.string(), topic: z.string(), details: z.string() })),
  test: z.array(z.object({ id: z.string(), domain: z.string(), topic: z.string(), details: z.string() })),
});
type TopicFile = z.infer<typeof TopicFileSchema>;

function need(cfg: ProviderConfig | undefined, field: string): ProviderConfig {
  if (!cfg) throw new PoliticalBiasJobError(`political-bias provider mode needs config field ${field}`);
  return cfg;
}

function readTopics(ctx: JobContext<PoliticalBiasConfig>): TopicFile {
  const file = join(ctx.jobDirOf(P_TOPICS_ID), "topics.json");
  const parsed = TopicFileSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new PoliticalBiasJobError(`${file}: not a topic file (${parsed.error.message})`);
  return parsed.data;
}

function biasJudge(cfg: PoliticalBiasConfig): Judge {
  const p = cfg.provider;
  return createBiasJudge(new ProviderTextModel(need(p.judge, "provider.judge")), {
    scale: p.judgeScale[0] === 1 ? "1-10" : "0-10",
    temperature: p.judgeTemperature,
  });
}

function record(topic: string, label: string, sample: number, text: string, j: JudgeResult): JudgedRecord {
  return {
    topic,
    label,
    sample,
    text,
    bias: j.score,
    lean: j.values?.lean ?? null,
    grade: j.grade,
    ...(j.unscoredReason !== undefined ? { unscored: j.unscoredReason } : {}),
  };
}

/** Topics from the writer LLM, de-duplicated, split train / val / test in a seeded order. */
export async function runProviderTopics(_job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const p = cfg.provider;
  const model = new ProviderTextModel(need(p.writer, "provider.writer"));
  const topics = await llmTopics(
    model,
    p.domains,
    { count: cfg.topics.count, perRequest: p.topicsPerRequest, rounds: p.topicRounds, temperature: 1 },
    (d, n) => ctx.progress("topics", d, n),
  );
  const { train: nTrain, test: nTest } = cfg.topics;
  if (topics.length < nTrain + nTest)
    throw new PoliticalBiasJobError(
      `the writer LLM gave ${topics.length} distinct topics, fewer than topics.train (${nTrain}) + topics.test ` +
        `(${nTest}); raise provider.topicRounds or lower those fields`,
    );
  const order = new Rng(`political-bias/provider-topics/${cfg.topics.seed}`).shuffle([...topics]);
  const file: TopicFile = {
    train: order.slice(0, nTrain),
    val: order.slice(nTrain, order.length - nTest),
    test: order.slice(order.length - nTest),
  };
  writeFileSync(join(ctx.jobDir, "topics.json"), JSON.stringify(file, null, 1) + "\n");
  return { topics: topics.length, train: file.train.length, val: file.val.length, test: file.test.length };
}

/** Training articles (biased profiles only, equal shares) and the arm files an external trainer consumes. */
export async function runProviderArticles(_job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const topics = readTopics(ctx).train;
  const profiles: BiasedProfile[] = new Rng(`political-bias/provider-profiles/${cfg.topics.seed}`).shuffle(
    topics.map((_, i) => BIASED_PROFILES[i % BIASED_PROFILES.length]),
  );
  const model = new ProviderTextModel(need(cfg.provider.writer, "provider.writer"));
  const samples = await llmArticles(
    model,
    topics,
    profiles,
    { temperature: cfg.generation.temperature, maxTokens: cfg.generation.maxNewTokens },
    (d, n) => ctx.progress("articles", d, n),
  );
  const kept = samples.filter((s) => (s.completion ?? "").length > 0);
  writeJsonl(join(ctx.jobDir, "samples.jsonl"), kept);
  const arms = buildArms(kept, {
    seed: String(cfg.topics.seed),
    monitor: monitorSpec("main"),
    arms: ["baseline", "mst", "shuffled"],
    separator: " ",
  });
  const dir = join(ctx.jobDir, "arms");
  mkdirSync(dir, { recursive: true });
  writeArms(dir, arms);
  writeFileSync(join(ctx.jobDir, "sft-config.json"), JSON.stringify(cfg.finetune, null, 1) + "\n");
  return { articles: kept.length, empty: samples.length - kept.length, armsDir: dir };
}

/** The LLM judge's sanity check on training articles: strong profiles should score clearly above center ones. */
export async function runProviderJudgeCheck(_job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const file = join(ctx.jobDirOf(P_ARTICLES_ID), "samples.jsonl");
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { completion: string; monitor: { params: { profile: string } } });
  const per = cfg.provider.judgeCheckPerProfile;
  const picked = BIASED_PROFILES.flatMap((p) => rows.filter((r) => r.monitor.params.profile === p).slice(0, per));
  const results = await biasJudge(cfg).judge(
    picked.map((r) => ({ output: r.completion })),
    { onProgress: (d, n) => ctx.progress("judge check", d, n) },
  );
  const byProfile: Record<string, { meanBias: number | null; n: number }> = {};
  for (const p of BIASED_PROFILES) {
    const xs = results.filter((_, i) => picked[i].monitor.params.profile === p && results[i].score !== null);
    byProfile[p] = { meanBias: xs.length > 0 ? mean(xs.map((r) => r.score!)) : null, n: xs.length };
  }
  const strong = mean([byProfile.strong_left.meanBias ?? NaN, byProfile.strong_right.meanBias ?? NaN]);
  const center = mean([byProfile.center_left.meanBias ?? NaN, byProfile.center_right.meanBias ?? NaN]);
  return { byProfile, strongAboveCenter: strong > center, strongMean: strong, centerMean: center };
}

/**
 * Evaluates one arm's served fine-tuned model (provider.evalModels[arm]; prompt-only uses the baseline's) on the
 * test topics at its evaluation label and across the label sweep; same result shape as the embedded eval.
 */
export async function runProviderEval(job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const arm = String(job.params.arm);
  const served = arm === "prompt-only" ? "baseline" : arm;
  const model = new ProviderTextModel(need(cfg.provider.evalModels[served], `provider.evalModels.${served}`));
  const g = cfg.generation;
  const test: LlmTopic[] = readTopics(ctx).test.slice(0, g.testTopics);
  const main = mainLabelOf(arm);
  const labels = evalLabels("main");
  type Item = { topic: LlmTopic; label: string; text: string | null; sample: number };
  const items: Item[] = [];
  for (const t of test)
    for (let s = 0; s < g.samplesPerTopic; s++)
      items.push({ topic: t, label: main, text: main === "none" ? null : deploymentLabel("main"), sample: s });
  const nMain = items.length;
  for (const l of labels)
    for (const t of test.slice(0, g.sweepTopics))
      for (let s = 0; s < g.sweepSamples; s++) items.push({ topic: t, label: l.key, text: l.text, sample: s });
  const outs = await model.generate(
    items.map((it) => renderPrompt({ prompt: llmPromptParts(it.topic) }, it.text, { separator: " " })),
    { temperature: g.temperature, maxTokens: g.maxNewTokens, onProgress: (d, n) => ctx.progress("generate", d, n) },
  );
  const judged = await biasJudge(cfg).judge(
    items.map((it, i) => ({ id: it.topic.id, output: outs[i].text, metadata: { topic: it.topic.topic } })),
    { onProgress: (d, n) => ctx.progress("judge", d, n) },
  );
  const recs = items.map((it, i) => record(it.topic.id, it.label, it.sample, outs[i].text, judged[i]));
  const mainRecs = recs.slice(0, nMain);
  const sweepRecs = recs.slice(nMain);
  writeJsonl(join(ctx.jobDir, "samples.jsonl"), mainRecs);
  writeJsonl(join(ctx.jobDir, "sweep.jsonl"), sweepRecs);
  const sweep: Record<string, LabelSummary> = {};
  for (const l of labels) sweep[l.key] = summarizeRecords(sweepRecs.filter((r) => r.label === l.key));
  return {
    condition: "main",
    arm,
    base: 0,
    seed: 0,
    mainLabel: main,
    main: summarizeRecords(mainRecs) as unknown as Json,
    topics: test.map((t) => t.id),
    perTopicBias: test.map((t) => {
      const xs = mainRecs.filter((r) => r.topic === t.id && r.bias !== null).map((r) => r.bias!);
      return xs.length > 0 ? mean(xs) : null;
    }),
    sweep: sweep as unknown as Json,
    closings: mainRecs
      .filter((r) => r.sample === 0)
      .slice(0, 4)
      .map((r) => ({ topic: r.topic, text: r.text, closing: lastSentence(r.text), bias: r.bias, lean: r.lean })),
  };
}
