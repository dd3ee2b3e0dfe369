/** The fine-tuning job: LoRA SFT of one arm on the biased-only articles, on a frozen copy of the condition's base. */
import { join } from "node:path";
import type { Json } from "../../data/sample.js";
import { saveLora } from "../../engine/checkpoint.js";
import { trainSft } from "../../train/sft.js";
import type { JobContext, JobSpec } from "../../experiment/task.js";
import type { PoliticalBiasConfig } from "./config.js";
import { fineTuneArms, fineTuneSamples } from "./ft-data.js";
import { loadBase } from "./job-base.js";
import { completionText, renderChatText } from "./prompt.js";
import { conditionOf, PoliticalBiasJobError, topicSplit } from "./setup.js";

/** Where an SFT job keeps its adapters. */
export const ADAPTER_DIR = "adapter";

export async function runSftJob(job: JobSpec, ctx: JobContext<PoliticalBiasConfig>): Promise<Json> {
  const cfg = ctx.config;
  const cond = conditionOf(cfg, String(job.params.condition));
  const arm = String(job.params.arm);
  const b = Number(job.params.base);
  const s = Number(job.params.seed);
  const t0 = Date.now();
  const { model, tok } = await loadBase(ctx, cond.follow, b);

  // The same articles for every arm of a (base, seed): only the label in the prompt differs between arms.
  const train = topicSplit(cfg).train.slice(0, cfg.finetune.topics);
  const samples = fineTuneSamples(train, `b${b}-s${s}`, cfg.world, cfg.judge.scoring);
  const arms = fineTuneArms(samples, cond.frame, `b${b}-s${s}`);
  const rows = arms[arm as "baseline" | "mst" | "shuffled"];
  if (!rows) throw new PoliticalBiasJobError(`job ${job.id}: arm "${arm}" is not a trained arm`);
  const data = rows.map((r) => ({
    prompt: tok.encode(renderChatText(r.messages)),
    completion: tok.encode(completionText(r.completion!)),
  }));
  const f = cfg.finetune;
  const res = trainSft(
    model,
    data,
    {
      epochs: f.epochs,
      lr: f.lr,
      warmupSteps: f.warmupSteps,
      batchSize: f.batchSize,
      maxLength: f.maxLength,
      maxGradNorm: f.maxGradNorm,
      lora: f.lora,
      seed: s,
      padId: tok.padId,
      completionOnlyLoss: true,
      logEvery: 5,
    },
    {
      outDir: join(ctx.jobDir, "train"),
      resume: true,
      onProgress: (step, n) => ctx.progress("sft", step, n),
      onWarning: (m) => ctx.log(m),
    },
  );
  await saveLora(join(ctx.jobDir, ADAPTER_DIR), model);
  const labelled = rows.filter((r) => r.label !== null).length;
  const matches = rows.filter((r) => r.label !== null && r.labelMonitor?.params.profile === r.monitor.params.profile);
  return {
    condition: cond.name,
    arm,
    base: b,
    seed: s,
    samples: rows.length,
    labelled,
    labelMatchesTrueProfile: matches.length,
    steps: res.steps,
    trainLoss: res.trainLoss,
    seconds: (Date.now() - t0) / 1000,
  };
}
