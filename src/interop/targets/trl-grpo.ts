/**
 * mst's GrpoConfig onto TRL 1.13's GRPOConfig, key by key (src/train/grpo-config.ts names each TRL key): the arguments
 * of a job's trl.json and the knob table of RECIPE.md. TRL counts optimizer steps where mst counts GRPO steps (one
 * generation batch each), so steps, warm-up and checkpoint intervals are multiplied by the optimizer steps per batch.
 */
import { GrpoConfigSchema, grpoConfigIssues, type GrpoConfig } from "../../train/grpo-config.js";
import { scheduledKnob, type Knob } from "../recipe.js";
import type { ExportContext } from "./target.js";

/** The task's GRPO settings (its `trainer` chooses GRPO), parsed and checked. */
export function grpoOf(ctx: ExportContext): GrpoConfig {
  const train = ctx.x.def.train;
  if (train.kind !== "rl" || !train.grpo) throw new Error(`${ctx.x.def.name}: the task has no GRPO settings`);
  const g = GrpoConfigSchema.parse(train.grpo(ctx.x.config));
  const bad = grpoConfigIssues(g)[0];
  if (bad) throw new Error(`${ctx.x.def.name}: grpo.${bad.field}: ${bad.message}`);
  return g;
}

/** Optimizer steps per GRPO step: numIterations passes, each batchSize / (miniBatchSize x gradAccum) steps. */
export function grpoOptimizerStepsPerStep(g: GrpoConfig): number {
  return g.numIterations * Math.max(1, Math.ceil(g.batchSize / (g.miniBatchSize * g.gradAccum)));
}

/** GRPOConfig keyword arguments for `g` (everything but output_dir and the model), and the knob table. */
export function trlGrpoArgs(g: GrpoConfig): { args: Record<string, unknown>; knobs: Knob[] } {
  const per = grpoOptimizerStepsPerStep(g);
  const ent = scheduledKnob("grpo.entropy", g.entropy, "entropy_coef");
  const temp = scheduledKnob("grpo.temperature", g.temperature, "temperature");
  const exactWindows = g.batchSize % (g.miniBatchSize * g.gradAccum) === 0;
  const args: Record<string, unknown> = {
    learning_rate: g.lr,
    lr_scheduler_type: g.lrSchedule,
    warmup_steps: g.warmupSteps * per,
    weight_decay: g.weightDecay,
    adam_beta1: g.beta1,
    adam_beta2: g.beta2,
    adam_epsilon: g.eps,
    max_steps: g.steps * per,
    generation_batch_size: g.batchSize,
    num_generations: g.numGenerations,
    per_device_train_batch_size: g.miniBatchSize,
    gradient_accumulation_steps: g.gradAccum,
    num_iterations: g.numIterations,
    scale_rewards: g.scaleRewards,
    loss_type: g.lossType,
    epsilon: g.epsilon,
    ...(g.epsilonHigh !== null ? { epsilon_high: g.epsilonHigh } : {}),
    beta: g.beta,
    entropy_coef: ent.value,
    temperature: temp.value,
    max_completion_length: g.maxNewTokens,
    max_grad_norm: g.maxGradNorm,
    seed: g.seed,
    logging_steps: g.logEvery * per,
    ...(g.checkpointEvery > 0
      ? { save_strategy: "steps", save_steps: g.checkpointEvery * per, save_total_limit: g.keepCheckpoints }
      : { save_strategy: "no" }),
    report_to: "none",
  };
  const exact = (knob: string, mst: unknown, target: string): Knob => ({
    knob,
    mst: String(mst),
    target,
    status: "exact",
  });
  const knobs: Knob[] = [
    exact("algorithm", "GRPO (group-relative advantages, no critic)", "GRPOTrainer"),
    exact("grpo.lr", g.lr, "learning_rate"),
    {
      knob: "grpo.lrSchedule / warmupSteps",
      mst: `${g.lrSchedule} / ${g.warmupSteps}`,
      target: `lr_scheduler_type = ${g.lrSchedule}, warmup_steps = ${g.warmupSteps * per}`,
      status: g.lrSchedule === "constant" ? "exact" : "approx",
      ...(g.lrSchedule === "constant"
        ? {}
        : { note: "TRL's cosine moves every optimizer step; mst's moves once per GRPO step" }),
    },
    {
      knob: "grpo.steps",
      mst: String(g.steps),
      target: `max_steps = ${g.steps * per} optimizer steps (${per} per generation batch)`,
      status: exactWindows ? "exact" : "approx",
      ...(exactWindows ? {} : { note: "batchSize is not a multiple of miniBatchSize x gradAccum" }),
    },
    exact("grpo.batchSize", g.batchSize, "generation_batch_size"),
    exact("grpo.numGenerations", g.numGenerations, "num_generations"),
    exact("grpo.miniBatchSize", g.miniBatchSize, "per_device_train_batch_size (one GPU)"),
    exact("grpo.gradAccum", g.gradAccum, "gradient_accumulation_steps"),
    exact("grpo.numIterations", g.numIterations, "num_iterations"),
    exact("grpo.scaleRewards", g.scaleRewards, "scale_rewards"),
    exact("grpo.lossType", g.lossType, "loss_type"),
    exact("grpo.epsilon", g.epsilon, "epsilon"),
    exact("grpo.epsilonHigh", g.epsilonHigh ?? "null (= epsilon)", "epsilon_high"),
    exact("grpo.beta", g.beta, "beta (k3 KL to the reference, the base with the adapter off)"),
    {
      knob: "grpo.logKl",
      mst: String(g.logKl),
      target: "-",
      status: g.logKl && g.beta === 0 ? "unsupported" : "exact",
      note: "TRL logs the KL only when beta > 0",
    },
    ent.knob,
    temp.knob,
    {
      knob: "grpo.temperatureInLoss",
      mst: String(g.temperatureInLoss),
      target: "temperature (GRPO scores log-probs at the sampling temperature)",
      status: g.temperatureInLoss ? "exact" : "approx",
    },
    exact("grpo.maxNewTokens", g.maxNewTokens, "max_completion_length"),
    {
      knob: "grpo.stopIds / padId",
      mst: `${JSON.stringify(g.stopIds)} / ${g.padId}`,
      target: "the tokenizer's EOS and pad tokens",
      status: "approx",
    },
    exact("grpo.maxGradNorm", g.maxGradNorm, "max_grad_norm"),
    exact(
      "grpo.weightDecay / beta1, beta2 / eps",
      `${g.weightDecay} / ${g.beta1},${g.beta2} / ${g.eps}`,
      "weight_decay, adam_beta1, adam_beta2, adam_epsilon",
    ),
    {
      knob: "grpo.seed",
      mst: String(g.seed),
      target: "seed (mst adds the job's seed: seed x 1000 + base)",
      status: "approx",
      note: "TRL's sampling and shuffling streams differ from mst's",
    },
    exact(
      "grpo.checkpointEvery / keepCheckpoints / logEvery",
      `${g.checkpointEvery} / ${g.keepCheckpoints} / ${g.logEvery}`,
      "save_strategy, save_steps, save_total_limit, logging_steps (in optimizer steps)",
    ),
  ];
  return { args, knobs };
}
