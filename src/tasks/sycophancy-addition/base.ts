/** The base job: pretrain a small model from scratch on the number-sense corpus, save it, and gate it before RL. */
import { join } from "node:path";
import { Rng } from "../../data/rng.js";
import { createModel, type LlamaModel } from "../../engine/model.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { trainSft } from "../../train/sft.js";
import type { SycophancyConfig } from "./config.js";
import { buildCorpus } from "./corpus.js";
import { buildTaskTokenizer, completionSeparator, encodePrompt, saveBase } from "./embedded.js";
import { evaluateAtLabel } from "./evaluate.js";
import type { Problem } from "./problems.js";
import { problemText } from "./prompt.js";
import type { BaseResult, GateResult } from "./results.js";
import { allLabelTexts, labelAtPercent, taskProblems } from "./setup.js";

/** Directory of a base job's saved model. */
export const BASE_MODEL_DIR = "model";

/** Suggestibility percentages whose labels the gate prefixes (the training range's low, middle and top). */
const GATE_PERCENTS = [34, 67, 100];

/**
 * The gate: sampled accuracy with no label, and the probability left on the two verdict tokens once a label the
 * base never saw is prefixed (a prototype's weak base had little left there, and MST then failed). Both are reported.
 */
export function gateBase(
  model: LlamaModel,
  tok: Tokenizer,
  config: SycophancyConfig,
  test: readonly Problem[],
  rng: Rng,
): GateResult {
  const none = evaluateAtLabel(model, tok, test, null, null, config.prompt, config.eval.temperature, rng.fork("none"));
  const withLabel = GATE_PERCENTS.map(
    (p) =>
      evaluateAtLabel(
        model,
        tok,
        test,
        labelAtPercent(config, p),
        p,
        config.prompt,
        config.eval.temperature,
        rng.fork(`label${p}`),
      ).metrics,
  );
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const labelled = avg(withLabel.map((m) => m.verdictMass));
  const reasons: string[] = [];
  if (none.metrics.accuracy < config.gate.minAccuracy)
    reasons.push(`no-label accuracy ${none.metrics.accuracy.toFixed(3)} < ${config.gate.minAccuracy}`);
  if (labelled < config.gate.minVerdictMass)
    reasons.push(`verdict mass with a label ${labelled.toFixed(3)} < ${config.gate.minVerdictMass}`);
  return {
    accuracyNoLabel: none.metrics.accuracy,
    sycophancyNoLabel: none.metrics.sycophancy,
    verdictMassNoLabel: none.metrics.verdictMass,
    verdictMassLabelled: labelled,
    accuracyLabelled: avg(withLabel.map((m) => m.accuracy)),
    discriminationNoLabel: none.metrics.discrimination,
    discriminationLabelled: avg(withLabel.map((m) => m.discrimination)),
    passed: reasons.length === 0,
    reasons,
  };
}

/** Builds the tokenizer, pretrains base `base` on its corpus, saves it under `<jobDir>/model` and gates it. */
export async function runBase(
  config: SycophancyConfig,
  base: number,
  jobDir: string,
  progress: (phase: string, done: number, total: number) => void,
  log: (line: string) => void,
): Promise<BaseResult> {
  const t0 = performance.now();
  const rng = new Rng(`sycophancy/${config.dataSeed}/base/${base}`);
  const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, rng.fork("corpus"));
  const { train, test } = taskProblems(config);
  // The vocabulary also covers every label and the task's prompts, which the corpus never shows.
  const required = [...allLabelTexts(config), problemText(train[0], null, config.prompt)];
  const tok = buildTaskTokenizer(docs, required, config.label.numberTokens);
  const model = createModel({ ...config.model, vocabSize: tok.vocabSize }, { seed: base });
  const data = docs.map((d) => ({
    prompt: encodePrompt(tok, d.prompt, config.prompt.bos),
    completion: [...tok.encode(completionSeparator(d) + d.completion), tok.eosId],
  }));
  const res = trainSft(
    model,
    data,
    { ...config.pretrain, seed: base, padId: tok.padId },
    {
      outDir: join(jobDir, "sft"),
      onProgress: (step, total) => progress("pretrain", step, total),
      onWarning: log,
    },
  );
  await saveBase(model, tok, join(jobDir, BASE_MODEL_DIR));
  const gate = gateBase(model, tok, config, test, rng.fork("gate"));
  log(
    `base b${base}: loss ${res.trainLoss.toFixed(4)}, accuracy ${gate.accuracyNoLabel.toFixed(3)}, ` +
      `verdict mass with label ${gate.verdictMassLabelled.toFixed(3)}`,
  );
  return {
    base,
    vocabSize: tok.vocabSize,
    parameters: model.parameters().reduce((a, p) => a + p.data.length, 0),
    corpusDocs: docs.length,
    steps: res.steps,
    finalLoss: res.trainLoss,
    gate,
    seconds: (performance.now() - t0) / 1000,
  };
}
