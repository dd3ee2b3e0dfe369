/**
 * The base job: pretrain the task's small model from its corpus (or load a local checkpoint), refuse a dead base,
 * gate it before any fine-tuning (every number reported, pass or fail; new model seeds while it fails, up to the
 * task's attempts), and save it once for every arm.
 */
import { existsSync, writeFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { saveCheckpoint } from "../engine/checkpoint.js";
import type { LlamaModel } from "../engine/model.js";
import { nextTokenLogprobs } from "../engine/sampler.js";
import { readMetrics } from "../train/metrics-log.js";
import { renderPrompt } from "../monitor/render-prompt.js";
import { loadBaseCheckpoint } from "./checkpoint-base.js";
import { labelsOf } from "./labels.js";
import type { Condition, ExperimentDefinition, GateReport, Pretrained } from "./experiment.js";
import { BASE_MODEL_DIR, type BaseParams, type BaseResult } from "./jobs.js";
import { CHECKPOINT_MARK, chatFormat, makeRuntime, type ModelRuntime } from "./runtime.js";
import type { JobContext, JobSpec } from "./task.js";

/** Raised for a base that cannot be used: dead after pretraining, or failing its gate. Names the job. */
export class BaseJobError extends Error {
  override name = "BaseJobError";
}

/** Conditions of a config (one "main" condition by default). */
export function conditionsOf<C>(def: ExperimentDefinition<C>, config: C): Condition[] {
  return def.conditions?.(config) ?? [{ name: "main", base: "main" }];
}

/** The deployment-label prompts of the first evaluation samples (for the example prompt and the dead-base check). */
function deploymentPrompts<C>(def: ExperimentDefinition<C>, config: C, cond: Condition, n: number) {
  const label = labelsOf(def, config, cond).deployment.text;
  const sep = def.separator?.(config) ?? "\n";
  return def
    .evalSamples(config, cond)
    .slice(0, n)
    .map((s) => renderPrompt(s, label, { separator: sep }));
}

/**
 * A dead base gives the same next-token distribution whatever the prompt (a collapse without NaN: e.g. a huge
 * learning rate that zeroes every gradient). Compares the rows of up to 8 different prompts.
 */
export function assertAlive(rt: ModelRuntime, prompts: readonly number[][], jobId: string): void {
  const distinct = [...new Map(prompts.map((p) => [p.join(","), p])).values()].slice(0, 8);
  if (distinct.length < 2) return;
  const rows = nextTokenLogprobs(rt.model as LlamaModel, distinct);
  if (rows.some((r) => r.some((x) => Number.isNaN(x))))
    throw new BaseJobError(`job ${jobId}: the base's next-token distribution is NaN; pretraining diverged`);
  let spread = 0;
  for (let i = 1; i < rows.length; i++)
    for (let j = 0; j < rows[0].length; j++) spread = Math.max(spread, Math.abs(rows[i][j] - rows[0][j]));
  // a collapsed model predicts (almost) the same row everywhere, often the uniform one
  if (spread < 1e-4)
    throw new BaseJobError(
      `job ${jobId}: the base is dead: its next-token distribution is the same for ${rows.length} different prompts ` +
        `(max log-prob difference ${spread.toExponential(1)}); pretraining collapsed (check pretrain.lr and the corpus)`,
    );
}

/** A pretraining whose gradient vanished for good (grad norm 0 over its last logged steps) left a dead base. */
export function assertTrained(metricsFile: string, jobId: string): void {
  if (!existsSync(metricsFile)) return;
  const steps = readMetrics(metricsFile);
  const tail = steps.slice(-3);
  if (tail.length >= 2 && tail.every((m) => m.grad_norm === 0))
    throw new BaseJobError(
      `job ${jobId}: the base is dead: pretraining's gradient norm is 0 from step ${tail[0].step} to ${tail.at(-1)!.step} ` +
        `(${metricsFile}); the model stopped learning (check pretrain.lr and the corpus)`,
    );
}

export async function runBaseJob<C>(
  def: ExperimentDefinition<C>,
  config: C,
  job: JobSpec,
  p: BaseParams,
  ctx: JobContext<C>,
): Promise<BaseResult> {
  const conditions = conditionsOf(def, config).filter((c) => c.base === p.group);
  const probe = deploymentPrompts(def, config, conditions[0], 8);
  const gateOf = async (rt: ModelRuntime): Promise<GateReport | null> =>
    def.base.gate ? def.base.gate(rt, config, { group: p.group, base: p.base, conditions }) : null;
  const sizeOf = (m: LlamaModel) => m.parameters().reduce((a, q) => a + q.data.length, 0);
  const modelDir = join(ctx.jobDir, BASE_MODEL_DIR);

  const checkpoint = def.base.checkpoint?.(config) ?? null;
  if (checkpoint !== null) {
    const path = resolve(checkpoint);
    ctx.progress("load checkpoint", 0, 1);
    const { model, tok, stopIds } = await loadBaseCheckpoint(path, def.base.storage?.(config) ?? "f32");
    const rt = makeRuntime(
      model,
      tok,
      chatFormat(tok, stopIds),
      tok.chatTemplate === undefined ? "plain" : "chat",
      path,
    );
    ctx.progress("gate", 0, 1);
    const gate = await gateOf(rt);
    ctx.progress("gate", 1, 1);
    if (gate && !gate.pass && (def.base.onGateFail?.(config) ?? "fail") === "fail")
      throw new BaseJobError(`job ${job.id}: the checkpoint ${path} fails the gate: ${gate.reasons.join("; ")}`);
    // the weights are not copied: later jobs load the checkpoint from its path
    writeFileSync(join(ctx.jobDir, CHECKPOINT_MARK), JSON.stringify({ path }) + "\n");
    return {
      group: p.group,
      base: p.base,
      source: { kind: "checkpoint", path },
      vocabSize: tok.vocabSize,
      parameters: sizeOf(model),
      info: {},
      gate,
      attempts: [{ seed: p.base, gate, kept: true }],
      examplePrompt: probe.length > 0 ? tok.decode(rt.format.encodePrompt(probe[0])) : "",
    };
  }

  if (!def.base.pretrain)
    throw new BaseJobError(`job ${job.id}: the task can only start from a checkpoint (base.checkpoint)`);
  if (!def.base.format) throw new BaseJobError(`job ${job.id}: the task's base recipe has no prompt format`);
  const attempts = Math.max(1, def.base.attempts?.(config) ?? 1);
  const tried: Array<{ pre: Pretrained; rt: ModelRuntime; gate: GateReport | null; seed: number }> = [];
  for (let k = 0; k < attempts; k++) {
    const seed = p.base + 1000 * k;
    const dir = join(ctx.jobDir, k === 0 ? "pretrain" : `pretrain-attempt${k}`);
    const pre = await def.base.pretrain(config, {
      group: p.group,
      base: p.base,
      attempt: k,
      seed,
      dir,
      progress: (phase, d, n) => ctx.progress(k === 0 ? phase : `${phase} (attempt ${k + 1})`, d, n),
      log: ctx.log,
    });
    const rt = makeRuntime(pre.model, pre.tokenizer, def.base.format(config, pre.tokenizer), "plain", job.id);
    assertTrained(join(dir, "metrics.jsonl"), job.id);
    assertAlive(
      rt,
      probe.map((m) => rt.format.encodePrompt(m)),
      job.id,
    );
    const gate = await gateOf(rt);
    ctx.log(
      `${job.id} attempt ${k + 1} (seed ${seed}): ${JSON.stringify(pre.info)}; gate ` +
        (gate ? `${gate.pass ? "pass" : "FAIL"} ${JSON.stringify(gate.values)}` : "none"),
    );
    tried.push({ pre, rt, gate, seed });
    if (!gate || gate.pass) break;
  }
  let kept = tried.find((t) => !t.gate || t.gate.pass);
  if (!kept) {
    const onFail = def.base.onGateFail?.(config) ?? "fail";
    if (onFail === "fail")
      throw new BaseJobError(
        `job ${job.id}: no base passed the gate in ${tried.length} attempt(s): ${tried.at(-1)!.gate!.reasons.join("; ")}`,
      );
    kept =
      onFail === "keep-best"
        ? [...tried].sort((a, b) => (b.gate!.rank ?? 0) - (a.gate!.rank ?? 0))[0]
        : tried[tried.length - 1];
    ctx.log(`${job.id}: no attempt passed the gate; keeping seed ${kept.seed} (${onFail})`);
  }
  await rm(modelDir, { recursive: true, force: true });
  await mkdir(ctx.jobDir, { recursive: true });
  // the chat template lets other engines (mst export) render prompts exactly as the task's format does
  const template = def.base.chatTemplate?.(config);
  const saved = template === undefined ? kept.pre.tokenizer : kept.pre.tokenizer.withChatTemplate(template);
  await saveCheckpoint(modelDir, kept.pre.model, { tokenizer: saved });
  const tok = kept.pre.tokenizer;
  return {
    group: p.group,
    base: p.base,
    source: { kind: "pretrained" },
    vocabSize: tok.vocabSize,
    parameters: sizeOf(kept.pre.model),
    info: kept.pre.info,
    gate: kept.gate,
    attempts: tried.map((t) => ({ seed: t.seed, gate: t.gate, kept: t === kept })),
    examplePrompt: probe.length > 0 ? tok.decode(kept.rt.format.encodePrompt(probe[0])) : "",
  };
}
