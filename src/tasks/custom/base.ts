/** The custom task's embedded base: a word-level model pretrained on the user's corpus plus the kit's corpus helpers; its prompt format; its gate. */
import { Rng, hashString } from "../../data/rng.js";
import { buildWordLevelTokenizer } from "../../engine/tokenizer-build.js";
import type { Tokenizer } from "../../engine/tokenizer.js";
import { comparisonDocs } from "../../experiment/corpus/comparisons.js";
import { directionCheck, floorCheck, gateReport, type GateCheck } from "../../experiment/corpus/gate.js";
import { labelTokenizerOptions } from "../../experiment/corpus/label-values.js";
import { labelShapedLines } from "../../experiment/corpus/label-line.js";
import { stanceMessages, type StanceWordings } from "../../experiment/corpus/stance.js";
import type { GateReport, Pretrained, PretrainAt } from "../../experiment/experiment.js";
import { pretrainOnCorpus, turnsText } from "../../experiment/pretrain.js";
import type { ModelRuntime } from "../../experiment/runtime.js";
import { createMonitorLabeler, type MonitorSpec } from "../../monitor/monitor.js";
import { renderPrompt } from "../../monitor/render-prompt.js";
import type { CustomConfig } from "./config.js";
import { readCorpus, readSamplesSync } from "./files.js";
import { monitorOf, sweepAxisOf } from "./monitor.js";
import type { Scorer } from "./scorer.js";

type PretrainModel = Extract<CustomConfig["model"], { kind: "pretrain" }>;

export { turnsText, plainFormat, PLAIN_CHAT_TEMPLATE } from "../../experiment/pretrain.js";

/** Stance wordings: the helper's, else a categorical label's own sentence for that value. */
export function stanceWordingsOf(m: PretrainModel, spec: MonitorSpec): StanceWordings {
  const out: Record<string, string[]> = {};
  if (spec.encoding.kind === "categorical") for (const [k, v] of Object.entries(spec.encoding.values)) out[k] = [v];
  return { ...out, ...m.helpers.stanceWordings };
}

/** The pretraining documents as (prompt, completion) text: the corpus (label-shaped lines, stance statements) plus comparisons. */
export function pretrainDocs(
  c: CustomConfig,
  m: PretrainModel,
  rng: Rng,
): Array<{ prompt: string; completion: string }> {
  const spec = monitorOf(c);
  const h = m.helpers;
  const line = h.labelLineShare > 0 ? labelShapedLines(spec, h.fillers) : null;
  const wordings = stanceWordingsOf(m, spec);
  const docs: Array<{ prompt: string; completion: string }> = [];
  const r = rng.fork("corpus");
  for (const d of readCorpus(m.corpus)) {
    if (d.kind === "text") docs.push({ prompt: "", completion: d.text });
    else if (d.stance !== undefined) {
      const { messages } = stanceMessages({ prompt: d.prompt, stance: d.stance }, wordings, r, {
        frames: h.stanceFrames,
        separator: c.separator,
      });
      docs.push({ prompt: turnsText(messages), completion: d.completion });
    } else {
      const text = line && r.bernoulli(h.labelLineShare) ? line(r) : null;
      docs.push({ prompt: turnsText(renderPrompt(d, text, { separator: c.separator })), completion: d.completion });
    }
  }
  if (h.comparisons > 0)
    for (const x of comparisonDocs(spec, h.comparisons, rng.fork("comparisons")))
      docs.push({ prompt: x.prompt, completion: x.completion });
  return rng.fork("order").shuffle(docs);
}

/** The tokenizer: corpus and samples, every label value its own token (held-out ones included). */
export function customTokenizer(
  c: CustomConfig,
  m: PretrainModel,
  docs: ReadonlyArray<{ prompt: string; completion: string }>,
): Tokenizer {
  const sampleTexts = [c.train.samples, c.eval.samples].flatMap((f) =>
    readSamplesSync(f).values.flatMap((s) => [s.prompt.system ?? "", s.prompt.user, s.completion ?? ""]),
  );
  const opts = labelTokenizerOptions(monitorOf(c), sampleTexts);
  return buildWordLevelTokenizer(
    docs.map((d) => d.prompt + d.completion),
    { digits: m.digits === "auto" ? opts.digits : m.digits, requiredTexts: opts.requiredTexts, roleTokens: false },
  );
}

export function pretrainCustom(c: CustomConfig, at: PretrainAt): Pretrained {
  const m = c.model as PretrainModel;
  const rng = new Rng(`custom/base/${at.base}`);
  const docs = pretrainDocs(c, m, at.attempt === 0 ? rng : rng.fork(`attempt${at.attempt}`));
  return pretrainOnCorpus({
    docs,
    tokenizer: customTokenizer(c, m, docs),
    model: m.architecture,
    sft: m.pretrain,
    at,
    info: (res, n, tok) => ({
      "corpus docs": n,
      vocabulary: tok.vocabSize,
      "pretrain steps": res.steps,
      "final loss": res.trainLoss,
    }),
  });
}

/** Mean judge score of the base on the evaluation samples under one label (null: none). */
async function meanScoreAt(
  rt: ModelRuntime,
  c: CustomConfig,
  score: Scorer,
  label: string | null,
  key: string,
): Promise<number> {
  const samples = readSamplesSync(c.eval.samples).values.slice(0, c.eval.items ?? Infinity);
  const prompts = samples.map((s) => renderPrompt(s, label, { separator: c.separator }));
  const out = await rt.textModel.generate(prompts, {
    temperature: c.eval.temperature,
    maxTokens: c.eval.maxTokens,
    seed: hashString(key),
  });
  const results = await score(
    samples.map((s, i) => ({
      id: s.id,
      prompt: prompts[i],
      output: out[i].text,
      label,
      monitor: s.monitor,
      rewardInputs: s.rewardInputs ?? null,
      meta: s.meta ?? null,
    })),
  );
  const xs = results.flatMap((r) => (r.score === null ? [] : [r.score]));
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** The gate: the base's score without a label, over the sweep, and its direction across the sweep, as configured. */
export async function customGate(rt: ModelRuntime, c: CustomConfig, score: Scorer, base: number): Promise<GateReport> {
  const g = c.gate;
  const checks: GateCheck[] = [];
  const none = await meanScoreAt(rt, c, score, null, `gate/b${base}/none`);
  checks.push(floorCheck("score (no label)", none, g.minScore ?? -Infinity));
  if (g.minScoreLabelled !== null || g.direction !== "none") {
    const spec = monitorOf(c);
    const labeler = createMonitorLabeler(spec);
    const xs = sweepAxisOf(c).x;
    const points: Array<{ x: number; score: number }> = [];
    for (let i = 0; i < spec.sweep.length; i++)
      points.push({
        x: xs[i],
        score: await meanScoreAt(rt, c, score, labeler.labelOf(spec.sweep[i]), `gate/b${base}/sweep${i}`),
      });
    const mean = points.reduce((a, p) => a + p.score, 0) / Math.max(1, points.length);
    checks.push(floorCheck("score (sweep labels)", mean, g.minScoreLabelled ?? -Infinity));
    if (g.direction !== "none") checks.push(directionCheck(points, g.direction, g.minSpread));
  }
  return gateReport(checks, none);
}
