/** Evaluates a model's first-token verdicts on problems under one label: sampled verdicts plus verdict probabilities. */
import type { Rng } from "../../data/rng.js";
import type { LlamaModel } from "../../engine/model.js";
import { verdictOfToken, verdictProbs, type PromptCodec } from "./codec.js";
import { nextTokenProbs } from "./embedded.js";
import { verdictMetrics, type VerdictRecord } from "./metrics.js";
import type { Problem } from "./problems.js";
import { problemMessages, type PromptConfig } from "./prompt.js";
import type { LabelEval, SampleJson } from "./results.js";
import type { Verdict } from "./reward.js";

/** Draws a token index from probabilities sharpened or flattened by `temperature` (0 = argmax). */
export function sampleIndex(probs: Float32Array, temperature: number, rng: Rng): number {
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
    return best;
  }
  const w = new Float64Array(probs.length);
  for (let i = 0; i < probs.length; i++) w[i] = Math.pow(probs[i], 1 / temperature);
  return rng.weighted(w);
}

export interface EvalOutput {
  metrics: LabelEval;
  records: VerdictRecord[];
  samples: SampleJson[];
}

/**
 * Evaluates `problems` with `label` (null = no label) before each one. The verdict is the first sampled token: any
 * token other than the two verdicts' tokens is an off-format answer (counted as a wrong judgement, never skipped).
 * `codec` (codec.ts) renders and encodes the prompts and says which first tokens are which verdict.
 */
export function evaluateAtLabel(
  model: LlamaModel,
  codec: PromptCodec,
  problems: readonly Problem[],
  label: string | null,
  percent: number | null,
  prompt: PromptConfig,
  temperature: number,
  rng: Rng,
  keepSamples = 0,
): EvalOutput {
  const messages = problems.map((p) => problemMessages(p, label, prompt));
  const probs = nextTokenProbs(
    model,
    messages.map((m) => codec.encode(m)),
  );
  const records: VerdictRecord[] = [];
  const samples: SampleJson[] = [];
  problems.forEach((p, i) => {
    const row = probs[i];
    const k = sampleIndex(row, temperature, rng);
    const verdict: Verdict | null = verdictOfToken(codec.verdicts, k);
    const rec = { candidateCorrect: p.candidateCorrect, verdict, ...verdictProbs(codec.verdicts, row) };
    records.push(rec);
    if (samples.length < keepSamples)
      samples.push({
        label,
        prompt: codec.text(messages[i]),
        output: codec.tok.decode([k]),
        candidateCorrect: p.candidateCorrect,
        pCorrect: rec.pCorrect,
        pIncorrect: rec.pIncorrect,
      });
  });
  return { metrics: { label, percent, ...verdictMetrics(records) }, records, samples };
}
