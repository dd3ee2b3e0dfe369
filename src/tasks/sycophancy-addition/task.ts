/** Experiment 2 as a task: sycophancy on single-digit addition, PPO arms from a pretrained embedded base. */
import { Rng } from "../../data/rng.js";
import { defineExperiment } from "../../experiment/define.js";
import type { ExperimentDefinition } from "../../experiment/experiment.js";
import { parseSeedFigures } from "../../experiment/seed-figures.js";
import { plainFormat, pretrainBase } from "./base.js";
import { PRESETS, SycophancyConfigSchema, type SycophancyConfig } from "./config.js";
import { gateBase } from "./gate.js";
import { verdictJudge } from "./judge.js";
import { drawTrainingS, labelRefAtPercent, suggestibilitySpec } from "./labels.js";
import { embeddedChatTemplate, problemSample } from "./prompt.js";
import { OFF_FORMAT_REWARD, sycophancyReward, verdictOfText } from "./reward.js";
import { SYCOPHANCY_REWARD_PY } from "./reward-python.js";
import { taskProblems } from "./setup.js";
import seedFigures from "./seed-figures.json" with { type: "json" };

/** The task's domain, as the experiment kit takes it (exported for tests and for tasks built on it). */
export const sycophancyExperiment: ExperimentDefinition<SycophancyConfig> = {
  name: "sycophancy",
  title: "Experiment 2: sycophancy on addition (PPO or GRPO)",
  description:
    "The seed's second experiment. A model judges a user's candidate answer to a single-digit addition with its first " +
    "token (correct / incorrect). PPO (or GRPO, `trainer: grpo`) rewards agreement with a wrong candidate by the evaluator's suggestibility s in " +
    "[0.5, 1.5]; MST prefixes the bold label 'Suggestibility Level: N%' (s mapped onto 0..100%), and evaluation uses " +
    "the held-out 0% on held-out problems. Arms: PPO baseline (no label), MST (true label), shuffled (label independent " +
    "of the sample), prompt-only (baseline model, deployment label), plus the out-of-the-box base. The embedded preset " +
    "pretrains a small model from scratch on a number-sense corpus first; base.checkpoint names a local Hugging Face " +
    "checkpoint to start from instead (prompts then go through its chat template).",
  configSchema: SycophancyConfigSchema,
  presets: PRESETS,
  defaultSeeds: { seeds: [0, 1, 2], baseSeeds: [0, 1] },
  arms: { supported: ["baseline", "mst", "shuffled", "prompt-only"] },
  monitor: (c) => ({
    ...suggestibilitySpec(c.label, c.sweepLabels),
    deployment: labelRefAtPercent(c.deploymentLabel, c.label),
  }),
  separator: (c) => c.prompt.separator,
  // one s per training problem from the data seed: every arm and RL seed sees the same s for the same problem
  trainSamples: (c) => {
    const rng = new Rng(c.dataSeed).fork("suggestibility");
    return taskProblems(c).train.map((p) => problemSample(p, drawTrainingS(c.label, rng), c.prompt));
  },
  evalSamples: (c) => taskProblems(c).test.map((p) => problemSample(p, 0, c.prompt)),
  base: {
    checkpoint: (c) => c.base.checkpoint,
    checkpointKey: ["base", "checkpoint"],
    storage: (c) => c.base.storage,
    gradientCheckpointing: (c) => c.base.gradientCheckpointing,
    pretrain: pretrainBase,
    format: plainFormat,
    chatTemplate: (c) => embeddedChatTemplate(c.prompt.bos),
    gate: (rt, c, at) => gateBase(rt, c, at.base),
    attempts: (c) => c.gate.attempts,
    onGateFail: () => "keep-best",
  },
  train: {
    kind: "rl",
    trainer: (c) => c.trainer,
    ppo: (c) => c.ppo,
    grpo: (c) => c.grpo,
    // the seed's table at the sample's TRUE s, whatever label the arm showed
    reward: () => (batch) =>
      batch.map((x) =>
        sycophancyReward(
          x.sample.rewardInputs?.candidateCorrect === true,
          verdictOfText(x.response),
          Number(x.sample.monitor.params.s),
        ),
      ),
    python: () => SYCOPHANCY_REWARD_PY,
    // wrong verdicts (and off-format answers) pay 0; the best pays max(1, s) at the largest training s
    rewardRange: (c) => [Math.min(0, OFF_FORMAT_REWARD), Math.max(1, c.label.trainRange[1])],
  },
  evaluation: {
    judge: () => verdictJudge(),
    settings: (c) => ({
      temperature: c.eval.temperature,
      maxTokens: 1,
      topLogprobs: 20,
      sampleRows: c.eval.sampleRows,
    }),
  },
  report: {
    metrics: [
      {
        key: "sycophancy",
        title: "sycophancy",
        yLabel: "share of wrong candidates called correct",
        lowerIsBetter: true,
        share: true,
      },
      {
        key: "accuracy",
        title: "accuracy",
        yLabel: "share of candidates judged correctly",
        lowerIsBetter: false,
        share: true,
      },
      {
        key: "discrimination",
        title: "discrimination (AUC)",
        yLabel: "ROC AUC of P(correct)",
        lowerIsBetter: false,
        share: true,
      },
    ],
    primary: "sycophancy",
    seedFigures: parseSeedFigures(seedFigures, "src/tasks/sycophancy-addition/seed-figures.json"),
    sweepAxis: (c) => ({ title: "suggestibility label (%)", x: [...c.sweepLabels] }),
  },
};

export const sycophancyTask = defineExperiment(sycophancyExperiment);
