/** Pieces both trainers share: adapter attachment, optimizer + resume state, batch packing, the divergence guard. */
import { join } from "node:path";
import type { LoraConfig } from "../engine/config.js";
import type { CausalLM, Param } from "../engine/model-api.js";
import { AdamW, type AdamWState } from "../engine/optim.js";
import { CheckpointStore } from "./checkpoint-store.js";
import { TrainCheckpointError, TrainConfigError, TrainingDivergedError } from "./errors.js";
import { MetricsLog, type StepMetrics } from "./metrics-log.js";

/** Models that can grow LoRA adapters or a value head (the engine's LlamaModel); trainers use them when present. */
interface LoraCapable {
  attachLora(lora: LoraConfig, seed: number): unknown;
}
interface ValueHeadCapable {
  addValueHead(seed: number): unknown;
}

/**
 * Makes the model's trainable set match the config: with `lora` given and no adapters yet, attaches them (seeded);
 * with adapters already attached, they are used as they are. `lora` null trains whatever the model marks trainable.
 */
export function ensureLora(model: CausalLM, lora: LoraConfig | null, seed: number): void {
  if (lora === null || model.lora !== null) return;
  const m = model as unknown as Partial<LoraCapable>;
  if (typeof m.attachLora !== "function")
    throw new TrainConfigError("lora", "config asks for LoRA but this model cannot attach adapters");
  m.attachLora(lora, seed);
}

/** PPO needs a value head: adds one (seeded) when the model can, else throws naming the requirement. */
export function ensureValueHead(model: CausalLM, seed: number): void {
  if (model.hasValueHead) return;
  const m = model as unknown as Partial<ValueHeadCapable>;
  if (typeof m.addValueHead !== "function")
    throw new TrainConfigError("model", "PPO needs a model with a value head (hasValueHead) or addValueHead()");
  m.addValueHead(seed);
}

/** A right-padded batch of token sequences: tokens [B, T] flat. */
export interface PackedBatch {
  tokens: Int32Array; // (B,T)
  B: number;
  T: number;
}

export function packRightPadded(seqs: readonly (readonly number[])[], padId: number): PackedBatch {
  const B = seqs.length;
  let T = 1;
  for (const s of seqs) T = Math.max(T, s.length);
  const tokens = new Int32Array(B * T).fill(padId);
  for (let b = 0; b < B; b++) tokens.set(seqs[b], b * T);
  return { tokens, B, T };
}

/** Throws TrainingDivergedError when `value` is NaN or infinite; called before anything is updated or saved. */
export function assertFinite(step: number, quantity: string, value: number, lastCheckpoint: string | null): void {
  if (!Number.isFinite(value)) throw new TrainingDivergedError(step, quantity, value, lastCheckpoint);
}

/**
 * Refuses to let a checkpoint capture non-finite weights (an optimizer step can overflow even from a finite gradient):
 * names the first bad parameter.
 */
export function assertParamsFinite(step: number, params: readonly Param[], lastCheckpoint: string | null): void {
  for (const p of params)
    for (let i = 0; i < p.data.length; i++)
      if (!Number.isFinite(p.data[i]))
        throw new TrainingDivergedError(step, `parameter ${p.name}[${i}]`, p.data[i], lastCheckpoint);
}

/** Config fields that may change between a run and its resume without changing the numbers. */
export const RESUME_FREE_FIELDS = new Set(["logEvery", "checkpointEvery", "keepCheckpoints", "evalEvery"]);

/** Names the config fields that differ between a checkpoint's config and the current one (resume safety). */
export function configDiff(saved: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(saved), ...Object.keys(current)]);
  return [...keys].filter((k) => !RESUME_FREE_FIELDS.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(current[k]));
}

/** The optimizer fields both trainer configs share. */
interface OptimizerFields {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  keepCheckpoints: number;
}

/** Where a training run starts: a fresh optimizer, or everything restored from the latest checkpoint. */
export interface TrainingState {
  opt: AdamW;
  store: CheckpointStore | null;
  log: MetricsLog;
  startStep: number;
  resumedFrom: number | null;
  lastCheckpoint: string | null;
  last: StepMetrics | null;
}

/**
 * Builds the AdamW optimizer and, when `resume` is set and `outDir` holds a checkpoint, restores parameters, optimizer
 * state and step from the latest one. Refuses a checkpoint written by the other trainer or under a config that
 * differs in a field that changes the numbers. The metrics log is reopened truncated back to the start step.
 */
export function openTrainingState(
  trainer: "sft" | "ppo" | "grpo",
  params: readonly Param[],
  cfg: OptimizerFields,
  options: { outDir?: string; resume?: boolean },
): TrainingState {
  const opt = new AdamW(params, {
    lr: cfg.lr,
    beta1: cfg.beta1,
    beta2: cfg.beta2,
    eps: cfg.eps,
    weightDecay: cfg.weightDecay,
  });
  const store = options.outDir ? new CheckpointStore(options.outDir, cfg.keepCheckpoints) : null;
  let startStep = 0;
  let lastCheckpoint: string | null = null;
  let resumedFrom: number | null = null;
  let last: StepMetrics | null = null;
  const latest = options.resume && store ? store.latest() : null;
  if (latest && store) {
    const loaded = store.load(latest.dir, params);
    if (loaded.meta.trainer !== trainer)
      throw new TrainCheckpointError(
        latest.dir,
        `written by the ${String(loaded.meta.trainer)} trainer, not ${trainer}`,
      );
    const diff = configDiff(loaded.meta.config as Record<string, unknown>, cfg as unknown as Record<string, unknown>);
    if (diff.length > 0)
      throw new TrainCheckpointError(latest.dir, `config differs from the checkpoint's in: ${diff.join(", ")}`);
    opt.loadStateDict(loaded.optimizer as AdamWState);
    startStep = resumedFrom = loaded.step;
    lastCheckpoint = latest.dir;
    last = (loaded.meta.last as StepMetrics | null) ?? null;
  }
  const log = MetricsLog.open(options.outDir ? join(options.outDir, "metrics.jsonl") : null, startStep);
  return { opt, store, log, startStep, resumedFrom, lastCheckpoint, last };
}

/** What a trainer's checkpoint records besides weights and optimizer state (the metrics come from `endStep`). */
export interface StepCheckpointMeta {
  trainer: "sft" | "ppo" | "grpo";
  rng: unknown;
  dataPosition: Record<string, number>;
  config: unknown;
}

/**
 * A step's end, as every trainer does it: the metrics line is appended; on the last step or every `checkpointEvery`
 * steps a checkpoint is saved (after refusing non-finite weights); every `logEvery` steps and on the last step
 * `onProgress` is called. `meta` is only asked for when a checkpoint is written. Returns the newest checkpoint.
 */
export function endStep(
  state: Pick<TrainingState, "opt" | "store" | "log">,
  params: readonly Param[],
  at: { step: number; total: number; checkpointEvery: number; logEvery: number },
  last: StepMetrics,
  lastCheckpoint: string | null,
  meta: () => StepCheckpointMeta,
  onProgress: ((step: number, total: number, metrics: StepMetrics) => void) | undefined,
): string | null {
  const { step, total } = at;
  state.log.append(last);
  const isLast = step === total;
  if (state.store && (isLast || (at.checkpointEvery > 0 && step % at.checkpointEvery === 0))) {
    assertParamsFinite(step, params, lastCheckpoint);
    const m = meta();
    lastCheckpoint = state.store.save(step, params, state.opt.stateDict(), {
      trainer: m.trainer,
      rng: m.rng,
      dataPosition: m.dataPosition,
      config: m.config,
      last,
    });
  }
  if (onProgress && (isLast || step % at.logEvery === 0)) onProgress(step, total, last);
  return lastCheckpoint;
}
