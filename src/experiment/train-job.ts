/**
 * The training job: one arm's samples (built by src/monitor's buildArms from ARM_RULES, so every arm holds the same
 * samples in the same order) trained with LoRA on the frozen base: SFT on completions, or PPO or GRPO (the task's
 * choice) paid by the task's reward from each sample's TRUE monitor (the shuffled arm shows one label and is paid by
 * its own monitor).
 */
import { join } from "node:path";
import { Rng } from "../data/rng.js";
import { saveLora } from "../engine/checkpoint.js";
import { ARM_RULES } from "../monitor/arms-spec.js";
import { buildArms } from "../monitor/arms.js";
import { readMetrics } from "../train/metrics-log.js";
import { trainGrpo } from "../train/grpo.js";
import { trainPpo, type PpoEnv, type PpoPrompt } from "../train/ppo.js";
import { trainSft } from "../train/sft.js";
import { conditionsOf } from "./base-job.js";
import { trainerIssues, trainerOf } from "./check-trainer.js";
import type { Condition, ExperimentDefinition } from "./experiment.js";
import { ADAPTER_DIR, BASE_MODEL_DIR, baseJobId, type TrainParams, type TrainResult } from "./jobs.js";
import { loadRuntime } from "./runtime.js";
import type { JobContext, JobSpec } from "./task.js";

/** The condition named `name`; throws naming the known ones. */
export function conditionOf<C>(def: ExperimentDefinition<C>, config: C, name: string): Condition {
  const all = conditionsOf(def, config);
  const c = all.find((x) => x.name === name);
  if (!c) throw new Error(`${def.name}: unknown condition "${name}"; known: ${all.map((x) => x.name).join(", ")}`);
  return c;
}

/**
 * The order training samples are served in: consecutive seeded permutations (epochs) cut into batches. It depends on
 * the seed only, never on the arm, so every arm sees the same samples in the same order.
 */
export function batchIndices(nItems: number, step: number, n: number, seed: number | string): number[] {
  const out: number[] = [];
  let pos = step * n;
  while (out.length < n) {
    const epoch = Math.floor(pos / nItems);
    const perm = new Rng(`order/${seed}`).fork(epoch).shuffle(Array.from({ length: nItems }, (_, i) => i));
    for (let i = pos % nItems; i < nItems && out.length < n; i++, pos++) out.push(perm[i]);
  }
  return out;
}

/** The arms' samples for one (condition, base, seed): what the train job trains on and what `mst export` writes. */
export function armSamples<C>(
  def: ExperimentDefinition<C>,
  config: C,
  condition: Condition,
  base: number,
  seed: number,
  arms: TrainParams["arm"][],
) {
  const inoculation = def.inoculation?.(config);
  return buildArms(def.trainSamples(config, { condition, base, seed }), {
    seed: `shuffle/${condition.name}/b${base}/s${seed}`,
    monitor: def.monitor(config, condition),
    arms,
    separator: def.separator?.(config) ?? "\n",
    ...(inoculation ? { inoculation } : {}),
  });
}

/** RL settings without an empty `stopIds` (a schema default), so the format's stop tokens apply. */
function withoutEmptyStops<T extends { stopIds?: number[] }>(ppo: T): T {
  if (ppo.stopIds === undefined || ppo.stopIds.length > 0) return ppo;
  const { stopIds: _omit, ...rest } = ppo;
  return rest as T;
}

export async function runTrainJob<C>(
  def: ExperimentDefinition<C>,
  config: C,
  job: JobSpec,
  p: TrainParams,
  ctx: JobContext<C>,
): Promise<TrainResult> {
  // the plan was checked before the first job; a job run on its own (or a resumed old run) is checked here too
  const bad = trainerIssues(def, config)[0];
  if (bad) throw new Error(`job ${job.id}: ${bad.path.map(String).join(".")}: ${bad.message}`);
  const cond = conditionOf(def, config, p.condition);
  const rt = await loadRuntime(def.base, config, ctx.jobDirOf(baseJobId(cond.base, p.base)), BASE_MODEL_DIR);
  const rows = armSamples(def, config, cond, p.base, p.seed, [p.arm]).arms[p.arm]!;
  const outDir = join(ctx.jobDir, "train");
  const seed = p.seed * 1000 + p.base;
  const padId = rt.tokenizer.padId >= 0 ? rt.tokenizer.padId : 0;
  let steps: number;
  let final: number | null;
  if (def.train.kind === "sft") {
    const data = rows.map((r) => {
      if (r.completion === undefined)
        throw new Error(`job ${job.id}: sample "${r.id}" has no completion; SFT needs one per training sample`);
      return { prompt: rt.format.encodePrompt(r.messages), completion: rt.format.encodeCompletion(r.completion) };
    });
    const res = trainSft(
      rt.model,
      data,
      { ...def.train.sft(config), seed, padId, completionOnlyLoss: true },
      { outDir, resume: true, onProgress: (s, n) => ctx.progress("sft", s, n), onWarning: (m) => ctx.log(m) },
    );
    steps = res.steps;
    final = res.trainLoss;
  } else {
    const train = def.train;
    const reward = train.reward(config);
    const encoded = rows.map((r) => rt.format.encodePrompt(r.messages));
    const stop = new Set(rt.format.stopIds ?? []);
    const env: PpoEnv<PpoPrompt> = {
      prompts: (step, _rng, n) =>
        batchIndices(rows.length, step, n, `${p.condition}/${p.seed}`).map((i) => ({
          tokens: encoded[i],
          key: String(i),
        })),
      rewards: (batch) =>
        reward(
          batch.map(({ prompt, response }) => ({
            sample: rows[Number(prompt.key)],
            response: rt.tokenizer.decode(response.filter((id) => !stop.has(id))),
            responseTokens: response,
          })),
        ),
    };
    // a response ends at the format's stop tokens unless the task names its own
    const fixed = { seed, padId };
    const stops = { stopIds: rt.format.stopIds ?? [] };
    const name = trainerOf(def, config);
    const res =
      name === "grpo"
        ? await trainGrpo(
            rt.model,
            env,
            { ...stops, ...withoutEmptyStops(train.grpo!(config)), ...fixed },
            { outDir, resume: true, onProgress: (s, n) => ctx.progress("grpo", s, n) },
          )
        : await trainPpo(
            rt.model,
            env,
            { ...stops, ...withoutEmptyStops(train.ppo(config)), ...fixed },
            { outDir, resume: true, onProgress: (s, n) => ctx.progress("ppo", s, n) },
          );
    steps = res.steps;
    const metrics = readMetrics(join(outDir, "metrics.jsonl"));
    const tail = metrics.slice(-Math.max(1, Math.floor(metrics.length / 10)));
    final = tail.length > 0 ? tail.reduce((a, m) => a + Number(m.reward_mean ?? NaN), 0) / tail.length : null;
  }
  await saveLora(join(ctx.jobDir, ADAPTER_DIR), rt.model);
  const rule = ARM_RULES[p.arm].train;
  return {
    condition: p.condition,
    arm: p.arm,
    base: p.base,
    seed: p.seed,
    kind: def.train.kind,
    samples: rows.length,
    labelMatchesTrue:
      rule === "none" || rule === "instruction"
        ? 0
        : rows.filter((r) => r.labelMonitor !== null && JSON.stringify(r.labelMonitor) === JSON.stringify(r.monitor))
            .length,
    steps,
    final: final !== null && Number.isFinite(final) ? final : null,
    metricsFile: join("jobs", job.id, "train", "metrics.jsonl"),
  };
}
