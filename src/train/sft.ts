/**
 * Supervised fine-tuning over prompt/completion token pairs: completion-only loss, right-padded micro-batches,
 * gradient accumulation, cosine LR with warm-up, grad-norm clipping, validation loss, checkpoints and exact resume.
 *
 * ```ts
 * const model = createModel(cfg, { seed: 1 });
 * const res = trainSft(model, [{ prompt: [1, 5], completion: [7, 2] }], { epochs: 3, lr: 1e-3 }, { outDir: "runs/x" });
 * res.evalLoss; // null without valData
 * ```
 */
import { Rng } from "../data/rng.js";
import type { CausalLM } from "../engine/model-api.js";
import { LlamaModel } from "../engine/model.js";
import { clipGradNorm, cosineWithWarmup } from "../engine/optim.js";
import type { StepMetrics } from "./metrics-log.js";
import { epochBatches, prepareExamples, type SftExample } from "./sft-batches.js";
import { SftConfigSchema, type SftConfig, type SftConfigInput } from "./sft-config.js";
import { crossEntropySum, crossEntropySumChunks, evalLoss, scoredRows, scoredTokens } from "./sft-loss.js";
import { assertFinite, endStep, ensureLora, openTrainingState, packRightPadded } from "./trainer-common.js";

export interface SftOptions {
  /** Run directory: metrics.jsonl and checkpoints/ go here. Without it nothing is written. */
  outDir?: string;
  /** Validation examples for the eval loss (every `evalEvery` steps and at the end). */
  valData?: readonly SftExample[];
  /** Called every `logEvery` steps and at the last step (the runner draws the progress bar). */
  onProgress?(step: number, total: number, metrics: StepMetrics): void;
  /** Continue from the newest checkpoint in outDir/checkpoints when there is one. Default false. */
  resume?: boolean;
  /** Where warnings go (truncation counts). Default console.warn. */
  onWarning?(message: string): void;
}

export interface SftResult {
  /** Optimizer steps taken in total (including those before a resume). */
  steps: number;
  /** Mean per-token loss of the last step. */
  trainLoss: number;
  /** Validation loss after the last step, or null without valData. */
  evalLoss: number | null;
  /** Training examples cut to maxLength / dropped because their completion vanished. */
  truncated: number;
  dropped: number;
  /** Step the run resumed from, or null for a fresh run. */
  resumedFrom: number | null;
  /** Directory of the final checkpoint, or null without outDir. */
  checkpoint: string | null;
}

/** Trains `model` in place on `data` and returns the final metrics. */
export function trainSft(
  model: CausalLM,
  data: readonly SftExample[],
  configInput: SftConfigInput,
  options: SftOptions = {},
): SftResult {
  const cfg: SftConfig = SftConfigSchema.parse(configInput);
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const root = new Rng(`sft/${cfg.seed}`);
  ensureLora(model, cfg.lora, cfg.seed);
  const params = model.trainableParameters();
  const V = model.config.vocabSize;
  const maxLength = Math.min(cfg.maxLength, model.config.maxSeq);

  const prep = prepareExamples(data, maxLength, "data");
  if (prep.truncated > 0)
    warn(
      `sft: ${prep.truncated} of ${data.length} examples exceeded ${maxLength} tokens and were truncated` +
        (prep.dropped > 0 ? ` (${prep.dropped} dropped: no completion token left)` : ""),
    );
  const examples = prep.examples;
  if (examples.length === 0) throw new Error("sft: no training examples left after truncation");
  const val = options.valData ? prepareExamples(options.valData, maxLength, "valData").examples : null;
  const lengths = examples.map((e) => e.prompt.length + e.completion.length);

  const nBatches = Math.ceil(examples.length / cfg.batchSize);
  const stepsPerEpoch = Math.ceil(nBatches / cfg.gradAccum);
  const totalSteps = cfg.maxSteps ?? cfg.epochs * stepsPerEpoch;
  const lrAt = (s: number) =>
    cosineWithWarmup(s, { baseLr: cfg.lr, warmupSteps: cfg.warmupSteps, totalSteps, minLr: cfg.minLr });

  const state = openTrainingState("sft", params, cfg, options);
  const { opt, log, startStep, resumedFrom } = state;
  let { lastCheckpoint, last } = state;

  let epochCache: { epoch: number; batches: number[][] } = { epoch: -1, batches: [] };
  const batchesOf = (epoch: number) => {
    if (epochCache.epoch !== epoch)
      epochCache = {
        epoch,
        batches: epochBatches(lengths, cfg.batchSize, cfg.groupByLength, root.fork(`order/${epoch}`)),
      };
    return epochCache.batches;
  };

  let dLogits = new Float32Array(0);
  try {
    for (let s = startStep; s < totalSteps; s++) {
      const step = s + 1;
      const t0 = performance.now();
      const epoch = Math.floor(s / stepsPerEpoch);
      const local = s % stepsPerEpoch;
      const micro = batchesOf(epoch)
        .slice(local * cfg.gradAccum, (local + 1) * cfg.gradAccum)
        .map((idx) => idx.map((i) => examples[i]));
      const nTok = scoredTokens(micro.flat(), cfg.completionOnlyLoss);
      const dropout = root.fork(`dropout/${s}`);
      model.zeroGrad();
      let lossSum = 0,
        processed = 0;
      for (const mb of micro) {
        const { tokens, B, T } = packRightPadded(
          mb.map((e) => e.prompt.concat(e.completion)),
          cfg.padId,
        );
        if (model instanceof LlamaModel) {
          // logits only at the scored rows, LM head + loss in chunks: memory no longer scales with B x T x vocabulary
          const { rows, targets } = scoredRows(mb, T, cfg.completionOnlyLoss);
          lossSum += model.trainChunked(tokens, B, T, rows, crossEntropySumChunks(targets, 1 / nTok), { rng: dropout });
        } else {
          const { logits } = model.forward(tokens, B, T, { train: true, rng: dropout });
          if (dLogits.length !== B * T * V) dLogits = new Float32Array(B * T * V);
          else dLogits.fill(0);
          lossSum += crossEntropySum(logits, mb, T, V, cfg.completionOnlyLoss, dLogits, 1 / nTok);
          model.backward(dLogits);
        }
        for (const e of mb) processed += e.prompt.length + e.completion.length;
      }
      const loss = lossSum / nTok;
      assertFinite(step, "loss", loss, lastCheckpoint);
      const gradNorm = clipGradNorm(params, cfg.maxGradNorm);
      assertFinite(step, "grad_norm", gradNorm, lastCheckpoint);
      const lr = lrAt(s);
      opt.step(lr);

      const isLast = step === totalSteps;
      const evalNow = val !== null && val.length > 0 && (isLast || (cfg.evalEvery > 0 && step % cfg.evalEvery === 0));
      const eLoss = evalNow ? evalLoss(model, val, cfg.batchSize, cfg.padId, cfg.completionOnlyLoss) : null;
      const dt = (performance.now() - t0) / 1000;
      last = {
        step,
        epoch: s / stepsPerEpoch,
        loss,
        eval_loss: eLoss,
        lr,
        grad_norm: gradNorm,
        tokens: nTok,
        tokens_per_s: processed / Math.max(dt, 1e-9),
      };
      lastCheckpoint = endStep(
        state,
        params,
        { step, total: totalSteps, checkpointEvery: cfg.checkpointEvery, logEvery: cfg.logEvery },
        last,
        lastCheckpoint,
        () => ({
          trainer: "sft",
          rng: root.state(),
          dataPosition: { epoch, batchInEpoch: (local + 1) * cfg.gradAccum },
          config: cfg,
        }),
        options.onProgress,
      );
    }
  } finally {
    log.close();
  }
  return {
    steps: totalSteps,
    trainLoss: last?.loss ?? NaN,
    evalLoss: (last?.eval_loss as number | null | undefined) ?? null,
    truncated: prep.truncated,
    dropped: prep.dropped,
    resumedFrom,
    checkpoint: lastCheckpoint,
  };
}
