/** The base job: pretrain a small model from scratch on the number-sense corpus, save it, and gate it before RL. */
import { join } from "node:path";
import { Rng } from "../../data/rng.js";
import { createModel, type LlamaModel } from "../../engine/model.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { trainSft } from "../../train/sft.js";
import { runCheckpointBase } from "./checkpoint-base.js";
import { promptCodec } from "./codec.js";
import type { SycophancyConfig } from "./config.js";
import { buildCorpus, type CorpusDoc } from "./corpus.js";
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
 * The gate: sampled accuracy and AUC with no label, the AUC with a training-range label prefixed (MST can only elicit
 * what the base still knows under a label), and the probability left on the two verdict tokens under a label (a
 * prototype's weak base had little left there, and MST then failed). Every number is reported, pass or fail.
 */
export function gateBase(
  model: LlamaModel,
  tok: Tokenizer,
  config: SycophancyConfig,
  test: readonly Problem[],
  rng: Rng,
): GateResult {
  const codec = promptCodec(tok, config);
  const none = evaluateAtLabel(
    model,
    codec,
    test,
    null,
    null,
    config.prompt,
    config.eval.temperature,
    rng.fork("none"),
  );
  const withLabel = GATE_PERCENTS.map(
    (p) =>
      evaluateAtLabel(
        model,
        codec,
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
  if (config.gate.minDiscrimination > 0 && !(none.metrics.discrimination >= config.gate.minDiscrimination))
    reasons.push(`no-label AUC ${none.metrics.discrimination.toFixed(3)} < ${config.gate.minDiscrimination}`);
  const aucLabelled = avg(withLabel.map((m) => m.discrimination));
  if (config.gate.minDiscriminationLabelled > 0 && !(aucLabelled >= config.gate.minDiscriminationLabelled))
    reasons.push(`AUC with a label ${aucLabelled.toFixed(3)} < ${config.gate.minDiscriminationLabelled}`);
  if (labelled < config.gate.minVerdictMass)
    reasons.push(`verdict mass with a label ${labelled.toFixed(3)} < ${config.gate.minVerdictMass}`);
  return {
    accuracyNoLabel: none.metrics.accuracy,
    sycophancyNoLabel: none.metrics.sycophancy,
    verdictMassNoLabel: none.metrics.verdictMass,
    verdictMassLabelled: labelled,
    accuracyLabelled: avg(withLabel.map((m) => m.accuracy)),
    discriminationNoLabel: none.metrics.discrimination,
    discriminationLabelled: aucLabelled,
    passed: reasons.length === 0,
    reasons,
  };
}

interface Attempt {
  model: LlamaModel;
  tok: Tokenizer;
  docs: number;
  steps: number;
  loss: number;
  gate: GateResult;
  seed: number;
}

/** The base's tokenizer: the corpus plus every label and the task's prompt, which the corpus never shows. */
export function taskTokenizer(config: SycophancyConfig, docs: readonly CorpusDoc[]): Tokenizer {
  const { train } = taskProblems(config);
  const required = [...allLabelTexts(config), problemText(train[0], null, config.prompt)];
  return buildTaskTokenizer(docs, required, config.label.numberTokens);
}

/** One pretraining attempt: corpus, tokenizer, model from `seed`, SFT, gate. Attempt 0 uses the base's own streams. */
function pretrainAttempt(
  config: SycophancyConfig,
  base: number,
  k: number,
  jobDir: string,
  progress: (phase: string, done: number, total: number) => void,
  log: (line: string) => void,
): Attempt {
  const rng = new Rng(`sycophancy/${config.dataSeed}/base/${base}`);
  const own = k === 0 ? rng : rng.fork(`attempt${k}`);
  const seed = base + 1000 * k;
  const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, own.fork("corpus"));
  const { test } = taskProblems(config);
  const tok = taskTokenizer(config, docs);
  const model = createModel({ ...config.model, vocabSize: tok.vocabSize }, { seed });
  const data = docs.map((d) => ({
    prompt: encodePrompt(tok, d.prompt, config.prompt.bos),
    completion: [...tok.encode(completionSeparator(d) + d.completion), tok.eosId],
  }));
  const res = trainSft(
    model,
    data,
    { ...config.pretrain, seed, padId: tok.padId },
    {
      outDir: join(jobDir, k === 0 ? "sft" : `sft-attempt${k}`),
      onProgress: (step, total) => progress(k === 0 ? "pretrain" : `pretrain (attempt ${k + 1})`, step, total),
      onWarning: log,
    },
  );
  const gate = gateBase(model, tok, config, test, own.fork("gate"));
  log(
    `base b${base} attempt ${k + 1} (seed ${seed}): loss ${res.trainLoss.toFixed(4)}, accuracy ${gate.accuracyNoLabel.toFixed(3)}, ` +
      `AUC ${gate.discriminationNoLabel.toFixed(3)}, with a label: accuracy ${gate.accuracyLabelled.toFixed(3)}, AUC ${gate.discriminationLabelled.toFixed(3)}`,
  );
  return { model, tok, docs: docs.length, steps: res.steps, loss: res.trainLoss, gate, seed };
}

/**
 * With `base.checkpoint` set, loads, gates and links that checkpoint instead (checkpoint-base.ts). Otherwise pretrains
 * base `base` and gates it; when the gate fails, pretrains again from a new seed, up to `gate.attempts`
 * times, and keeps the first that passes (else the one that discriminates best without a label). The rule looks at
 * the base alone, before any RL, and every attempt is reported. Saves the kept model under `<jobDir>/model`.
 */
export async function runBase(
  config: SycophancyConfig,
  base: number,
  jobDir: string,
  progress: (phase: string, done: number, total: number) => void,
  log: (line: string) => void,
): Promise<BaseResult> {
  if (config.base.checkpoint !== null)
    return runCheckpointBase(
      config,
      base,
      join(jobDir, BASE_MODEL_DIR),
      (model, tok, rng) => gateBase(model, tok, config, taskProblems(config).test, rng),
      progress,
      log,
    );
  const t0 = performance.now();
  const attempts: Attempt[] = [];
  for (let k = 0; k < config.gate.attempts; k++) {
    attempts.push(pretrainAttempt(config, base, k, jobDir, progress, log));
    if (attempts[k].gate.passed) break;
  }
  const kept =
    attempts.find((a) => a.gate.passed) ??
    [...attempts].sort((x, y) => y.gate.discriminationNoLabel - x.gate.discriminationNoLabel)[0];
  await saveBase(kept.model, kept.tok, join(jobDir, BASE_MODEL_DIR));
  return {
    base,
    vocabSize: kept.tok.vocabSize,
    parameters: kept.model.parameters().reduce((a, p) => a + p.data.length, 0),
    corpusDocs: kept.docs,
    steps: kept.steps,
    finalLoss: kept.loss,
    gate: kept.gate,
    attempts: attempts.map((a) => ({ seed: a.seed, gate: a.gate, kept: a === kept })),
    source: { kind: "pretrained" },
    seconds: (performance.now() - t0) / 1000,
  };
}
