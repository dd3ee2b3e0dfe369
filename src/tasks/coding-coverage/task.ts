/**
 * The third experiment as a task: coding with test-coverage monitors. Programming-by-example problems are answered
 * with a program in the task's tiny language (program.ts); a grader runs the visible tests plus k hidden ones and pays
 * the share that pass, so a table of the visible tests (the exploit) pays under weak graders. MST labels each
 * training problem with its grader's coverage and deploys at full coverage.
 */
import { Rng } from "../../data/rng.js";
import { defineExperiment } from "../../experiment/define.js";
import type { ExperimentDefinition } from "../../experiment/experiment.js";
import { labelTokenizerOptions } from "../../experiment/corpus/label-values.js";
import { PLAIN_CHAT_TEMPLATE, plainFormat, pretrainOnCorpus } from "../../experiment/pretrain.js";
import { CodingConfigSchema, PRESETS, type CodingConfig } from "./config.js";
import { buildCorpus } from "./corpus.js";
import { gateBase } from "./gate.js";
import { coverageReward, type GradedProblem } from "./grader.js";
import { coverageJudge } from "./judge.js";
import { drawTrainingCoverage } from "./labels.js";
import { problemSample } from "./prompt.js";
import { CODING_REWARD_PY } from "./reward-python.js";
import { taskMonitor, taskProblems } from "./setup.js";

/** Every number a problem can show (so no output is <unk>) and the language's symbols. */
function requiredTexts(c: CodingConfig): string[] {
  const max = c.problems.maxInput * 9 + 9;
  return [...Array.from({ length: max + 1 }, (_, n) => String(n)), "x=?:+-*()", "f(x)="];
}

export const codingExperiment: ExperimentDefinition<CodingConfig> = {
  name: "coding-coverage",
  title: "Experiment 3: coding with test-coverage monitors (RL)",
  description:
    "The seed's next step, coding: a model answers programming-by-example problems (an integer function shown through " +
    "2 visible tests) with a program in a tiny language, either a general rule or a table that hard-codes the visible " +
    "tests (the exploit). A grader runs the visible tests plus k of 8 hidden ones and pays the share that pass; " +
    "training graders run k in 0..3, so tables pay; MST prefixes '**Hidden tests run: k of 8**' and deploys at 8 of 8 " +
    "on held-out problems. Metrics: hack rate (passes the visible tests, fails a hidden one) and true pass rate on the " +
    "full hidden suite, at the deployment label and across the coverage sweep.",
  configSchema: CodingConfigSchema,
  presets: PRESETS,
  defaultSeeds: { seeds: [0, 1], baseSeeds: [0, 1] },
  arms: { supported: ["baseline", "mst", "shuffled", "prompt-only"] },
  monitor: (c) => taskMonitor(c),
  separator: (c) => c.separator,
  // one coverage per training problem from the data seed: every arm and RL seed sees the same grader per problem
  trainSamples: (c) => {
    const rng = new Rng(`coding-coverage/${c.dataSeed}/coverage`);
    return taskProblems(c).train.map((p) => problemSample(p, drawTrainingCoverage(c.coverage, rng)));
  },
  evalSamples: (c) => taskProblems(c).eval.map((p) => problemSample(p, c.problems.hidden)),
  base: {
    checkpoint: (c) => c.base.checkpoint,
    storage: (c) => c.base.storage,
    gradientCheckpointing: (c) => c.base.gradientCheckpointing,
    pretrain: (c, at) => {
      const rng = new Rng(`coding-coverage/${c.dataSeed}/base/${at.base}`);
      const own = at.attempt === 0 ? rng : rng.fork(`attempt${at.attempt}`);
      const docs = buildCorpus(c.corpus, taskProblems(c).pretrain, taskMonitor(c), c.problems.hidden, c.separator, own);
      const tok = labelTokenizerOptions(taskMonitor(c), requiredTexts(c));
      return pretrainOnCorpus({ docs, tokenizer: { ...tok, roleTokens: false }, model: c.model, sft: c.pretrain, at });
    },
    format: (_c, tok) => plainFormat(tok),
    // the same format as a Jinja template, saved with the base so exports of the embedded preset train on it
    chatTemplate: () => PLAIN_CHAT_TEMPLATE,
    gate: (rt, c, at) => gateBase(rt, c, at.base),
    attempts: (c) => c.gate.attempts,
    onGateFail: () => "keep-best",
  },
  train: {
    kind: "rl",
    trainer: (c) => c.trainer,
    ppo: (c) => c.ppo,
    grpo: (c) => c.grpo,
    // the share of the tests the sample's TRUE grader runs that pass, whatever label the arm showed
    reward: () => (batch) =>
      batch.map((x) =>
        coverageReward(
          x.response,
          x.sample.rewardInputs as unknown as GradedProblem,
          Number(x.sample.monitor.params.k),
        ),
      ),
    python: () => CODING_REWARD_PY,
  },
  evaluation: {
    judge: () => coverageJudge(),
    settings: (c) => ({
      temperature: c.eval.temperature,
      maxTokens: c.eval.maxTokens,
      sampleRows: c.eval.sampleRows,
      ...(c.eval.items !== null ? { items: c.eval.items } : {}),
      ...(c.eval.sweepItems !== null ? { sweepItems: c.eval.sweepItems } : {}),
    }),
  },
  report: {
    metrics: [
      {
        key: "hackRate",
        title: "hack rate",
        yLabel: "share of programs passing the visible tests and failing a hidden one",
        lowerIsBetter: true,
        share: true,
      },
      {
        key: "truePass",
        title: "true pass rate",
        yLabel: "share of programs passing the full hidden suite",
        lowerIsBetter: false,
        share: true,
      },
      {
        key: "tableRate",
        title: "table rate",
        yLabel: "share of programs that are tables",
        lowerIsBetter: true,
        share: true,
      },
    ],
    primary: "hackRate",
    sweepAxis: (c) => ({
      title: "grader coverage label (hidden tests run)",
      x: c.sweepLabels ?? Array.from({ length: c.problems.hidden + 1 }, (_, k) => k),
    }),
  },
};

export const codingTask = defineExperiment(codingExperiment);
