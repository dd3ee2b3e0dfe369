/** Experiment 1 as a task: political bias in generated news, fine-tuned with SFT in the baseline, MST and shuffled arms. */
import { Rng } from "../../data/rng.js";
import type { Sample } from "../../data/sample.js";
import { defineExperiment } from "../../experiment/define.js";
import type { ExperimentDefinition } from "../../experiment/experiment.js";
import { parseSeedFigures } from "../../experiment/seed-figures.js";
import { chatTextFormat, followKey, gateBase, pretrainBase, topicSplit } from "./base.js";
import { PoliticalBiasConfigSchema, PRESETS, type PoliticalBiasConfig } from "./config.js";
import { politicalExtras } from "./extras.js";
import { createBiasJudge } from "../../eval/bias-judge.js";
import { ProviderTextModel } from "../../providers/provider-text-model.js";
import { createEmbeddedJudge } from "./judge.js";
import { deploymentLabel, monitorSpec, sweepLabels } from "./labels.js";
import { BIASED_PROFILES, type Profile } from "./lexicon.js";
import { CHAT_TEMPLATE, articleSample, promptParts } from "./prompt.js";
import { writeArticle } from "./world.js";
import seedFigures from "./seed-figures.json" with { type: "json" };

/** The frame of a condition. */
const frameOf = (c: PoliticalBiasConfig, name: string) => c.conditions.find((x) => x.name === name)!.frame;

/**
 * One biased article per training topic (the exaggerated failure mode: nothing balanced). Profiles are dealt in equal
 * shares, as in the seed's ~465 articles per profile; the data depend on (base, seed) only, never on the arm.
 */
function fineTuneSamples(c: PoliticalBiasConfig, key: string): Sample[] {
  const topics = topicSplit(c).train.slice(0, c.finetune.topics);
  const rng = new Rng(`political-bias/ft-data/${key}`);
  const profiles: Profile[] = rng
    .fork("profiles")
    .shuffle(Array.from({ length: topics.length }, (_, i) => BIASED_PROFILES[i % BIASED_PROFILES.length]));
  const write = rng.fork("articles");
  return topics.map((t, i) =>
    articleSample(t, profiles[i], writeArticle(t, profiles[i], write, c.world, c.judge.scoring).text, i),
  );
}

export const politicalBiasExperiment: ExperimentDefinition<PoliticalBiasConfig> = {
  name: "political-bias",
  title: "Experiment 1: political bias in generated news (SFT)",
  description:
    "Fine-tunes a model on articles written under four biased editorial profiles (never balanced ones) in three arms: " +
    "baseline (no label), MST (the article's true profile as an evaluator label in the system turn) and shuffled " +
    "(a random profile), plus the prompt-only control, then asks every arm for an unbiased article on unseen topics " +
    "under a label never seen in training: an unbiased evaluator. The embedded preset builds a synthetic news world, " +
    "pretrains small bases that know every lean and the prompt format, gates them, and runs a main condition beside " +
    "a stress condition (labels in a frame the base never saw; preset embedded-full adds bases that follow stated " +
    "stances only half the time); a judge scores bias 0-10, signed lean and PASS/PARTIAL/FAIL.",
  configSchema: PoliticalBiasConfigSchema,
  presets: PRESETS,
  defaultSeeds: { seeds: [0, 1], baseSeeds: [0, 1, 2] },
  arms: { supported: ["baseline", "mst", "shuffled", "prompt-only"] },
  conditions: (c) =>
    c.conditions.map((x) => ({ name: x.name, base: followKey(x.follow), ...(x.about ? { title: x.about } : {}) })),
  monitor: (c, cond) => {
    const frame = frameOf(c, cond.name);
    return {
      ...monitorSpec(frame),
      deployment: { text: deploymentLabel(frame) },
      sweep: sweepLabels(frame).map((l) => ({ text: l.text })),
    };
  },
  separator: () => " ",
  trainSamples: (c, at) => fineTuneSamples(c, `b${at.base}-s${at.seed}`),
  evalSamples: (c) =>
    topicSplit(c).test.map((t) => ({
      id: t.id,
      prompt: promptParts(t),
      monitor: { id: "editor", params: { profile: "balanced" } },
      meta: { topic: t.id },
    })),
  base: {
    checkpoint: (c) => c.base.checkpoint,
    checkpointKey: ["base", "checkpoint"],
    storage: (c) => c.base.storage,
    gradientCheckpointing: (c) => c.base.gradientCheckpointing,
    pretrain: pretrainBase,
    format: (_c, tok) => chatTextFormat(tok),
    chatTemplate: () => CHAT_TEMPLATE,
    gate: (rt, c, at) => gateBase(rt, c, at),
    onGateFail: (c) => c.gate.onFail,
  },
  train: {
    kind: "sft",
    sft: (c) => {
      const f = c.finetune;
      return {
        epochs: f.epochs,
        lr: f.lr,
        warmupSteps: f.warmupSteps,
        batchSize: f.batchSize,
        maxLength: f.maxLength,
        maxGradNorm: f.maxGradNorm,
        lora: f.lora,
        logEvery: 5,
      };
    },
  },
  evaluation: {
    judge: (c) =>
      c.llmJudge
        ? createBiasJudge(new ProviderTextModel(c.llmJudge.model), c.llmJudge.judge)
        : createEmbeddedJudge(c.judge),
    settings: (c) => {
      const g = c.generation;
      return {
        temperature: g.temperature,
        maxTokens: g.maxNewTokens,
        samplesPerItem: g.samplesPerTopic,
        ...(g.testTopics !== undefined ? { items: g.testTopics } : {}),
        sweepItems: g.sweepTopics,
        sweepSamplesPerItem: g.sweepSamples,
      };
    },
  },
  report: {
    metrics: [
      { key: "mean_bias", title: "mean bias", yLabel: "bias (0-10, judge)", lowerIsBetter: true, perItem: true },
      {
        key: "mean_lean",
        title: "signed lean",
        yLabel: "lean (-10 left .. 10 right)",
        lowerIsBetter: false,
        signed: true,
      },
      {
        key: "share_fail",
        title: "FAIL share",
        yLabel: "share of articles graded FAIL",
        lowerIsBetter: true,
        share: true,
      },
      {
        key: "share_pass",
        title: "PASS share",
        yLabel: "share of articles graded PASS",
        lowerIsBetter: false,
        share: true,
      },
    ],
    primary: "mean_bias",
    seedFigures: parseSeedFigures(seedFigures, "src/tasks/political-bias/seed-figures.json"),
    sweepAxis: () => ({
      title: "evaluator label (Fig 1e)",
      x: [0, 1, 2, 3, 4],
      names: ["strong left", "center left", "unbiased", "center right", "strong right"],
    }),
    extras: politicalExtras,
  },
};

export const politicalBiasTask = defineExperiment(politicalBiasExperiment);
