/**
 * `mst run custom --spec my-experiment.yaml`: an MST experiment described as data. The spec's `overrides` name the
 * training and evaluation samples (JSONL, the `mst arms` sample format), the monitor block, the model (a small model
 * pretrained on the user's corpus with the kit's corpus helpers, or a local checkpoint), the trainer (SFT on
 * completions, or PPO or GRPO with an exact-match, module or LLM-judge reward), the judge and its metrics.
 */
import { defineExperiment } from "../../experiment/define.js";
import type { ExperimentDefinition } from "../../experiment/experiment.js";
import type { Task } from "../../experiment/task.js";
import { PLAIN_CHAT_TEMPLATE, customGate, plainFormat, pretrainCustom } from "./base.js";
import { CustomConfigSchema, PRESETS, type CustomConfig } from "./config.js";
import { readSamplesSync } from "./files.js";
import { monitorOf, sweepAxisOf } from "./monitor.js";
import { prepareCustomConfig } from "./prepare.js";
import { makeScorer, metricsOf, type ScoreItem } from "./scorer.js";
import { scorerReward } from "../../experiment/scorers/scorer.js";
import type { ChatMessage } from "../../data/text-model.js";

export const customExperiment: ExperimentDefinition<CustomConfig> = {
  name: "custom",
  title: "Custom experiment (from a spec)",
  description:
    "An MST experiment from data alone: training and evaluation samples as JSONL (the `mst arms` format), the monitor " +
    "block (label encoding, held-out values, deployment label, sweep), a model (pretrained from scratch on your corpus " +
    "with the kit's corpus helpers, or a local Hugging Face checkpoint), a trainer (SFT on completions, or PPO or GRPO with an " +
    "exact-match, JS-module or LLM-judge reward), and a judge with its metrics, all under the spec's `overrides`. " +
    "Paths are relative to the spec file.",
  configSchema: CustomConfigSchema,
  presets: PRESETS,
  arms: { supported: ["baseline", "mst", "shuffled", "prompt-only"] },
  monitor: (c) => monitorOf(c),
  separator: (c) => c.separator,
  trainSamples: (c) => readSamplesSync(c.train.samples).values,
  evalSamples: (c) => readSamplesSync(c.eval.samples).values,
  base: {
    checkpoint: (c) => (c.model.kind === "checkpoint" ? c.model.path : null),
    storage: (c) => (c.model.kind === "checkpoint" ? c.model.storage : "f32"),
    gradientCheckpointing: (c) => (c.model.kind === "checkpoint" ? c.model.gradientCheckpointing : null),
    pretrain: pretrainCustom,
    format: (_c, tok) => plainFormat(tok),
    chatTemplate: () => PLAIN_CHAT_TEMPLATE,
    gate: (rt, c, at) => customGate(rt, c, makeScorer(c.judge, "judge"), at.base),
    attempts: (c) => c.gate.attempts,
    onGateFail: (c) => c.gate.onFail,
  },
  train: {
    kind: "rl",
    trainer: (c) => (c.trainer.kind === "rl" ? c.trainer.algorithm : "ppo"),
    ppo: (c) => (c.trainer.kind === "rl" ? c.trainer.ppo : {}),
    grpo: (c) => (c.trainer.kind === "rl" ? c.trainer.grpo : {}),
    reward: (c) => {
      if (c.trainer.kind !== "rl") throw new Error("custom: the trainer is SFT; there is no reward");
      return scorerReward(makeScorer(c.trainer.reward, "trainer.reward"));
    },
  },
  evaluation: {
    judge: (c) => {
      const score = makeScorer(c.judge, "judge");
      const byId = new Map(readSamplesSync(c.eval.samples).values.map((s) => [s.id, s]));
      return {
        name: `custom:${c.judge.kind}`,
        lowerIsBetter: c.metrics[0].lowerIsBetter,
        metrics: metricsOf(c.metrics),
        judge: (items, options) => {
          const scoreItems: ScoreItem[] = items.map((it) => {
            const s = it.id !== undefined ? byId.get(it.id) : undefined;
            const label = it.metadata?.label;
            return {
              id: it.id ?? "",
              prompt:
                typeof it.prompt === "string"
                  ? [{ role: "user", content: it.prompt }]
                  : ((it.prompt ?? []) as ChatMessage[]),
              output: it.output,
              label: typeof label === "string" ? label : null,
              monitor: s?.monitor ?? null,
              rewardInputs: s?.rewardInputs ?? null,
              meta: s?.meta ?? null,
            };
          });
          return score(scoreItems).then((r) => {
            options?.onProgress?.(items.length, items.length);
            return r;
          });
        },
      };
    },
    settings: (c) => ({
      temperature: c.eval.temperature,
      maxTokens: c.eval.maxTokens,
      samplesPerItem: c.eval.samplesPerItem,
      ...(c.eval.items !== undefined ? { items: c.eval.items } : {}),
      ...(c.eval.sweepItems !== undefined ? { sweepItems: c.eval.sweepItems } : {}),
      sampleRows: c.eval.sampleRows,
    }),
  },
  report: {
    metrics: [],
    primary: "",
    sweepAxis: (c) => sweepAxisOf(c),
  },
};

/** The definition for one config: its trainer kind and its report metrics come from the config. */
export function customDefinition(c: CustomConfig): ExperimentDefinition<CustomConfig> {
  return {
    ...customExperiment,
    train:
      c.trainer.kind === "sft"
        ? { kind: "sft", sft: () => (c.trainer.kind === "sft" ? c.trainer.sft : {}) }
        : customExperiment.train,
    report: {
      ...customExperiment.report,
      metrics: c.metrics.map((m) => ({
        key: m.name,
        title: m.title ?? m.name,
        lowerIsBetter: m.lowerIsBetter,
        share: m.kind === "share",
      })),
      primary: c.metrics[0].name,
    },
  };
}

/** The task: the kit's, built per config, with the spec checked (paths, samples, labels) before anything runs. */
function makeCustomTask(): Task<CustomConfig> {
  const of = (c: CustomConfig) => defineExperiment(customDefinition(c));
  const shape = defineExperiment(customExperiment);
  return {
    ...shape,
    plan: (c, input) => of(c).plan(c, input),
    runJob: (job, ctx) => of(ctx.config).runJob(job, ctx),
    summarize: (c, input, jobs, results, preset) => of(c).summarize(c, input, jobs, results, preset),
    // the spec's files and samples first, then the kit's checks of the definition this config makes
    prepareConfig: (c, ctx) => {
      const out = prepareCustomConfig(c, ctx);
      return of(out).prepareConfig?.(out, ctx) ?? out;
    },
    experimentFor: (c) => customDefinition(c),
  };
}

export const customTask = makeCustomTask();
