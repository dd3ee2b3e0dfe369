/**
 * The base job: pretraining corpus, word-level tokenizer, a small model pretrained from scratch, then the gate (in
 * the fine-tuning prompt format, lean must move left to right across the labels: strong far, mild clearly, the
 * deployment label balanced) and the out-of-the-box evaluation at the deployment label on the test topics.
 */
import { join } from "node:path";
import { Rng } from "../../data/rng.js";
import type { Json } from "../../data/sample.js";
import { loadCheckpoint, saveCheckpoint } from "../../engine/checkpoint.js";
import { createModel } from "../../engine/model.js";
import { buildWordLevelTokenizer } from "../../engine/tokenizer-build.js";
import { trainSft } from "../../train/sft.js";
import type { JobContext, JobSpec } from "../../experiment/task.js";
import type { PoliticalBiasConfig } from "./config.js";
import { buildCorpus } from "./corpus.js";
import { itemsFor, judgeAll, summarizeRecords, type LabelSummary } from "./evaluate.js";
import { deploymentLabel, sweepLabels, LabelFrameSchema, type LabelFrame } from "./labels.js";
import { baseJobId } from "./plan.js";
import { evalLabels, evalPrompt, PoliticalBiasJobError, topicSplit, writeJsonl } from "./setup.js";

/** Where a base job keeps its checkpoint (model + tokenizer). */
export const BASE_MODEL_DIR = "model";

/** Loads the pretrained base (model + tokenizer) that the base job for (`follow`, base seed `b`) saved. */
export async function loadBase(ctx: JobContext<PoliticalBiasConfig>, follow: number, b: number) {
  const id = baseJobId(follow, b);
  const { model, tokenizer } = await loadCheckpoint(join(ctx.jobDirOf(id), BASE_MODEL_DIR));
  if (!tokenizer) throw new PoliticalBiasJobError(`${id}: the base checkpoint has no tokenizer.json`);
  return { model, tok: tokenizer };
}

/** The gate's verdict for one label frame. */
export interface GateResult {
  frame: LabelFrame;
  /** Mean lean per label key, left to right (strong_left .. strong_right), plus "none". */
  lean: Record<string, number | null>;
  bias: Record<string, number | null>;
  monotone: boolean;
  strongFar: boolean;
  mildClear: boolean;
  deploymentBalanced: boolean;
  pass: boolean;
}

const ORDER = ["strong_left", "center_left", "unbiased", "center_right", "strong_right"];

export function gateVerdict(
  frame: LabelFrame,
  byLabel: Record<string, LabelSummary>,
  g: PoliticalBiasConfig["gate"],
): GateResult {
  const lean: Record<string, number | null> = {};
  const bias: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(byLabel)) {
    lean[k] = v.meanLean;
    bias[k] = v.meanBias;
  }
  const xs = ORDER.map((k) => lean[k] ?? NaN);
  const monotone = xs.every((x, i) => Number.isFinite(x) && (i === 0 || x > xs[i - 1]));
  const strongFar = -xs[0] >= g.strongMin && xs[4] >= g.strongMin;
  const mildClear = -xs[1] >= g.mildMin && xs[3] >= g.mildMin;
  const deploymentBalanced = Math.abs(xs[2]) <= g.balancedMax;
  return {
    frame,
    lean,
    bias,
    monotone,
    strongFar,
    mildClear,
    deploymentBalanced,
    pass: monotone && strongFar && mildClear && deploymentBalanced,
  };
}

export async function runBaseJob(job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const follow = Number(job.params.follow);
  const b = Number(job.params.base);
  const frames = (job.params.frames as string[]).map((f) => LabelFrameSchema.parse(f));
  const split = topicSplit(cfg);
  const t0 = Date.now();

  // Test topics never reach pretraining: the base's articles are about train and validation topics.
  const docs = buildCorpus(
    [...split.train, ...split.val],
    { ...cfg.corpus, follow },
    new Rng(`political-bias/corpus/f${follow}/b${b}`),
    cfg.world,
    cfg.judge.scoring,
  );
  // Every label text is required in the vocabulary (the unseen frame's words occur in no document).
  const required = [...sweepLabels("main"), ...sweepLabels("unseen")].map((l) => l.text);
  const tok = buildWordLevelTokenizer(
    docs.map((d) => d.prompt + d.completion),
    { digits: "whole", requiredTexts: required },
  );
  const data = docs.map((d) => ({ prompt: tok.encode(d.prompt), completion: tok.encode(d.completion) }));
  const model = createModel({ vocabSize: tok.vocabSize, ...cfg.model }, { seed: b });
  const p = cfg.pretrain;
  const res = trainSft(
    model,
    data,
    {
      epochs: p.epochs,
      lr: p.lr,
      warmupSteps: p.warmupSteps,
      batchSize: p.batchSize,
      maxGradNorm: p.maxGradNorm,
      maxLength: cfg.model.maxSeq,
      completionOnlyLoss: false,
      padId: tok.padId,
      seed: b,
      logEvery: 5,
    },
    {
      outDir: join(ctx.jobDir, "pretrain"),
      resume: true,
      onProgress: (s, n) => ctx.progress("pretrain", s, n),
      onWarning: (m) => ctx.log(m),
    },
  );
  await saveCheckpoint(join(ctx.jobDir, BASE_MODEL_DIR), model, { tokenizer: tok });
  const pretrainSeconds = (Date.now() - t0) / 1000;
  ctx.log(`base f${follow} b${b}: vocab ${tok.vocabSize}, ${res.steps} steps, loss ${res.trainLoss.toFixed(3)}`);

  const gates: GateResult[] = [];
  const outOfBox: Record<string, LabelSummary> = {};
  for (const frame of frames) {
    const gateItems = itemsFor(split.val.slice(0, cfg.gate.topics), evalLabels(frame), 1);
    const gateRecs = judgeAll(model, tok, gateItems, cfg, `gate/${frame}/b${b}`, (d, n) =>
      ctx.progress(`gate ${frame}`, d, n),
    );
    writeJsonl(join(ctx.jobDir, `gate-${frame}.jsonl`), gateRecs);
    const byLabel: Record<string, LabelSummary> = {};
    for (const l of evalLabels(frame)) byLabel[l.key] = summarizeRecords(gateRecs.filter((r) => r.label === l.key));
    const gate = gateVerdict(frame, byLabel, cfg.gate);
    gates.push(gate);
    ctx.log(`gate ${frame}: ${JSON.stringify(gate.lean)} -> ${gate.pass ? "pass" : "FAIL"}`);
    if (!gate.pass && cfg.gate.onFail === "fail")
      throw new PoliticalBiasJobError(
        `base f${follow} b${b} failed the gate in frame "${frame}" (lean by label ${JSON.stringify(gate.lean)}); ` +
          `set gate.onFail: warn to continue anyway`,
      );

    // The out-of-the-box model under the unbiased label, on the test topics (the seed: mean bias 2.25, PASS 97.5%).
    const test = split.test.slice(0, cfg.generation.testTopics ?? split.test.length);
    const oobItems = itemsFor(
      test,
      [{ key: "unbiased", text: deploymentLabel(frame) }],
      cfg.generation.samplesPerTopic,
    );
    const oob = judgeAll(model, tok, oobItems, cfg, `oob/${frame}/b${b}`, (d, n) =>
      ctx.progress(`base eval ${frame}`, d, n),
    );
    writeJsonl(join(ctx.jobDir, `out-of-box-${frame}.jsonl`), oob);
    outOfBox[frame] = summarizeRecords(oob);
  }
  const example = evalPrompt(split.val[0], deploymentLabel(frames[0]));
  return {
    follow,
    base: b,
    vocab: tok.vocabSize,
    documents: docs.length,
    steps: res.steps,
    trainLoss: res.trainLoss,
    pretrainSeconds,
    seconds: (Date.now() - t0) / 1000,
    gates: gates as unknown as Json,
    outOfBox: outOfBox as unknown as Json,
    examplePrompt: example,
  };
}
