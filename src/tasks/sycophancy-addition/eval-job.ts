/** The evaluation jobs: an arm's trained model (or the out-of-the-box base) on held-out problems, at the deployment label and across the sweep. */
import { Rng } from "../../data/rng.js";
import type { LlamaModel } from "../../engine/model.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { promptCodec } from "./codec.js";
import type { SycophancyConfig } from "./config.js";
import { loadModel } from "./embedded.js";
import { evaluateAtLabel } from "./evaluate.js";
import type { SycophancyArm } from "./plan.js";
import type { EvalResult, LabelEval, SampleJson } from "./results.js";
import { labelAtPercent, taskProblems } from "./setup.js";

/** Evaluates at each label percentage, in order; keeps example rows from the first one only. */
function sweepOf(
  model: LlamaModel,
  tok: Tokenizer,
  config: SycophancyConfig,
  percents: readonly number[],
  rng: Rng,
  progress: (done: number) => void,
  samples: SampleJson[],
): LabelEval[] {
  const test = taskProblems(config).test;
  const codec = promptCodec(tok, config); // one tokenizer, one codec for every label of the sweep
  return percents.map((p, i) => {
    const out = evaluateAtLabel(
      model,
      codec,
      test,
      labelAtPercent(config, p),
      p,
      config.prompt,
      config.eval.temperature,
      rng.fork(`label:${p}`),
      samples.length === 0 ? config.eval.sampleRows : 0,
    );
    samples.push(...out.samples);
    progress(i + 1);
    return out.metrics;
  });
}

/**
 * Evaluates an arm. Held-out test problems only. baseline: no label (its model swept with labels is `prompt-only`);
 * mst, shuffled, prompt-only: the deployment label, then the sweep.
 */
export async function runEval(
  config: SycophancyConfig,
  arm: SycophancyArm,
  base: number,
  seed: number,
  baseModelDir: string,
  adapterDir: string,
  progress: (phase: string, done: number, total: number) => void,
): Promise<EvalResult> {
  const t0 = performance.now();
  const { model, tok } = await loadModel(baseModelDir, adapterDir);
  const rng = new Rng(`sycophancy/eval/${arm}/b${base}/s${seed}`);
  const samples: SampleJson[] = [];
  if (arm === "baseline") {
    const out = evaluateAtLabel(
      model,
      promptCodec(tok, config),
      taskProblems(config).test,
      null,
      null,
      config.prompt,
      config.eval.temperature,
      rng.fork("none"),
      config.eval.sampleRows,
    );
    progress("eval", 1, 1);
    return {
      arm,
      base,
      seed,
      deployment: out.metrics,
      sweep: [],
      samples: out.samples,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  const percents = [config.deploymentLabel, ...config.sweepLabels];
  const all = sweepOf(model, tok, config, percents, rng, (d) => progress("eval", d, percents.length), samples);
  return {
    arm,
    base,
    seed,
    deployment: all[0],
    sweep: all.slice(1),
    samples,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The out-of-the-box base under the deployment label, the sweep, and no label. */
export async function runBaseEval(
  config: SycophancyConfig,
  base: number,
  baseModelDir: string,
  progress: (phase: string, done: number, total: number) => void,
): Promise<EvalResult> {
  const t0 = performance.now();
  const { model, tok } = await loadModel(baseModelDir);
  const rng = new Rng(`sycophancy/eval/base/b${base}`);
  const samples: SampleJson[] = [];
  const percents = [config.deploymentLabel, ...config.sweepLabels];
  const all = sweepOf(model, tok, config, percents, rng, (d) => progress("eval", d, percents.length + 1), samples);
  const none = evaluateAtLabel(
    model,
    promptCodec(tok, config),
    taskProblems(config).test,
    null,
    null,
    config.prompt,
    config.eval.temperature,
    rng.fork("none"),
  );
  progress("eval", percents.length + 1, percents.length + 1);
  return {
    arm: "base",
    base,
    seed: null,
    deployment: all[0],
    sweep: all.slice(1),
    noLabel: none.metrics,
    samples,
    seconds: (performance.now() - t0) / 1000,
  };
}
