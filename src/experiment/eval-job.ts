/**
 * The evaluation job: an arm's trained model (or the out-of-the-box base) on the held-out evaluation samples, at the
 * arm's main label (none or the deployment label, by ARM_RULES) and across the label sweep. Completions come through
 * TextModel, a Judge scores them, the judge's Metrics aggregate them; every judged completion goes to a JSONL file.
 */
import { join } from "node:path";
import { hashString } from "../data/rng.js";
import { writeJsonl } from "../data/jsonl-write.js";
import type { Sample } from "../data/sample.js";
import type { Completion, TextModel } from "../data/text-model.js";
import type { Judge, JudgeResult } from "../eval/judge.js";
import { computeMetrics, type MetricValue } from "../eval/metric.js";
import { ARM_RULES, type ArmName } from "../monitor/arms-spec.js";
import { renderPrompt } from "../monitor/render-prompt.js";
import type { Condition, EvalSettings, ExperimentDefinition } from "./experiment.js";
import {
  ADAPTER_DIR,
  BASE_MODEL_DIR,
  baseJobId,
  trainJobId,
  type EvalBaseParams,
  type EvalParams,
  type EvalResult,
  type LabelEval,
} from "./jobs.js";
import { trainedArmOf } from "./plan.js";
import { labelsOf, type EvalLabel } from "./labels.js";
import { loadRuntime } from "./runtime.js";
import { conditionOf } from "./train-job.js";
import type { JobContext, JobSpec } from "./task.js";

/** Finite numbers stay, NaN becomes null (JSON), and per-item value lists are dropped from results.json. */
function metricJson(m: MetricValue) {
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    name: m.name,
    mean: num(m.mean),
    lo: num(m.lo),
    hi: num(m.hi),
    n: m.n,
    unscored: m.unscored,
    ...(m.method ? { method: m.method } : {}),
  };
}

/** Generates `perItem` completions per sample at one label and judges them; returns the judged rows. */
async function evaluateAt(
  model: TextModel,
  judge: Judge,
  samples: readonly Sample[],
  perItem: number,
  label: EvalLabel,
  settings: EvalSettings,
  separator: string,
  seedKey: string,
  onProgress: (d: number, n: number) => void,
): Promise<Array<{ sample: Sample; prompt: string; completion: Completion; result: JudgeResult }>> {
  const items = samples.flatMap((s) => Array.from({ length: perItem }, () => s));
  const prompts = items.map((s) => renderPrompt(s, label.text, { separator }));
  const completions = await model.generate(prompts, {
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    ...(settings.topLogprobs ? { topLogprobs: settings.topLogprobs } : {}),
    seed: hashString(seedKey),
    onProgress: (d, n) => onProgress(d, 2 * n),
  });
  const judged = await judge.judge(
    items.map((s, i) => ({
      id: s.id,
      prompt: prompts[i],
      output: completions[i].text,
      target: s.rewardInputs ?? s.meta ?? null,
      metadata: {
        ...(s.meta ?? {}),
        label: label.text,
        topLogprobs: completions[i].topLogprobs,
        finishReason: completions[i].finishReason,
      },
    })),
    { onProgress: (d, n) => onProgress(n + d, 2 * n) },
  );
  const text = (m: (typeof prompts)[number]) => m.map((x) => `${x.role}: ${x.content}`).join("\n");
  return items.map((s, i) => ({ sample: s, prompt: text(prompts[i]), completion: completions[i], result: judged[i] }));
}

/**
 * Evaluates any TextModel (an embedded runtime, or a served model through a provider) at `labels`, `mainKey` being the
 * arm's main label: completions, judge, metrics, the samples.jsonl of every judged completion in `ctx.jobDir`.
 */
export async function evaluateModel<C>(
  def: ExperimentDefinition<C>,
  config: C,
  model: TextModel,
  cond: Condition,
  labels: EvalLabel[],
  mainKey: string,
  who: { arm: string; base: number; seed: number | null },
  ctx: JobContext<C>,
): Promise<EvalResult> {
  const settings = def.evaluation.settings(config);
  const judge = def.evaluation.judge(config);
  const separator = def.separator?.(config) ?? "\n";
  const all = def.evalSamples(config, cond);
  const out: LabelEval[] = [];
  const perItem: Record<string, number | null> = {};
  const samples: EvalResult["samples"] = [];
  const lines: unknown[] = [];
  for (const label of labels) {
    const main = label.key === mainKey;
    const chosen = all.slice(0, (main ? settings.items : settings.sweepItems) ?? all.length);
    const k = main ? (settings.samplesPerItem ?? 1) : (settings.sweepSamplesPerItem ?? 1);
    const seedKey = `${def.name}/eval/${cond.name}/${who.arm}/b${who.base}/s${who.seed ?? "-"}/${label.key}`;
    const rows = await evaluateAt(model, judge, chosen, k, label, settings, separator, seedKey, (d, n) =>
      ctx.progress(`eval ${label.key}`, d, n),
    );
    const results = rows.map((r) => r.result);
    const metrics = computeMetrics(judge.metrics, results);
    const unscored = results.filter((r) => r.score === null && r.grade === null).length;
    out.push({
      key: label.key,
      label: label.text,
      x: label.x,
      n: results.length,
      unscored,
      metrics: Object.fromEntries(Object.entries(metrics).map(([k2, m]) => [k2, metricJson(m)])),
    });
    for (const r of rows)
      lines.push({
        id: r.sample.id,
        label: label.key,
        output: r.completion.text,
        finish: r.completion.finishReason,
        score: r.result.score,
        grade: r.result.grade,
        values: r.result.values ?? {},
        ...(r.result.unscoredReason !== undefined ? { unscored: r.result.unscoredReason } : {}),
      });
    if (main) {
      const by = new Map<string, number[]>();
      for (const r of rows) {
        if (!by.has(r.sample.id)) by.set(r.sample.id, []);
        if (r.result.score !== null) by.get(r.sample.id)!.push(r.result.score);
      }
      for (const [id, xs] of by) perItem[id] = xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    }
    if (main)
      for (const r of rows.slice(0, settings.sampleRows ?? 4))
        samples.push({
          label: label.text ?? "(no label)",
          prompt: r.prompt,
          output: r.completion.text,
          values: { score: r.result.score, grade: r.result.grade, ...(r.result.values ?? {}) },
        });
  }
  writeJsonl(join(ctx.jobDir, "samples.jsonl"), lines);
  return {
    condition: cond.name,
    arm: who.arm,
    base: who.base,
    seed: who.seed,
    main: mainKey,
    labels: out,
    perItem,
    samples: samples.slice(0, 2 * (settings.sampleRows ?? 4)),
  };
}

/**
 * The labels an arm is evaluated at and its main one: the deployment label then the sweep for arms evaluated with
 * labels (ARM_RULES), else none; the out-of-the-box base ("base") gets the deployment label, the sweep and none.
 */
export function armLabels<C>(
  def: ExperimentDefinition<C>,
  config: C,
  cond: Condition,
  arm: ArmName | "base",
): { labels: EvalLabel[]; main: string } {
  const l = labelsOf(def, config, cond);
  if (arm === "base") return { labels: [l.deployment, ...l.sweep, l.none], main: "deployment" };
  const labels = ARM_RULES[arm].eval === "deployment" ? [l.deployment, ...l.sweep] : [l.none];
  return { labels, main: labels[0].key };
}

/** An arm's model: its main label per ARM_RULES, then the sweep for arms evaluated with labels. */
export async function runEvalJob<C>(
  def: ExperimentDefinition<C>,
  config: C,
  _job: JobSpec,
  p: EvalParams,
  ctx: JobContext<C>,
): Promise<EvalResult> {
  const cond = conditionOf(def, config, p.condition);
  const adapter = join(ctx.jobDirOf(trainJobId(cond.name, trainedArmOf(p.arm), p.base, p.seed)), ADAPTER_DIR);
  const rt = await loadRuntime(def.base, config, ctx.jobDirOf(baseJobId(cond.base, p.base)), BASE_MODEL_DIR, adapter);
  const { labels, main } = armLabels(def, config, cond, p.arm);
  return evaluateModel(def, config, rt.textModel, cond, labels, main, { arm: p.arm, base: p.base, seed: p.seed }, ctx);
}

/** The out-of-the-box base: the deployment label, the sweep, and no label. */
export async function runEvalBaseJob<C>(
  def: ExperimentDefinition<C>,
  config: C,
  _job: JobSpec,
  p: EvalBaseParams,
  ctx: JobContext<C>,
): Promise<EvalResult> {
  const cond = conditionOf(def, config, p.condition);
  const rt = await loadRuntime(def.base, config, ctx.jobDirOf(baseJobId(cond.base, p.base)), BASE_MODEL_DIR);
  const { labels, main } = armLabels(def, config, cond, "base");
  return evaluateModel(def, config, rt.textModel, cond, labels, main, { arm: "base", base: p.base, seed: null }, ctx);
}
