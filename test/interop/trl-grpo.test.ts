/**
 * `mst export --target trl` of a task that trains with GRPO: every GrpoConfig option lands on its TRL GRPOConfig key,
 * checked by building TRL 1.13's own GRPOConfig from the exported arguments in the test venv.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { exportSpec } from "../../src/interop/export.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { GrpoConfigSchema } from "../../src/train/grpo-config.js";
import { runPython, skipUnlessPython, testSourcePath } from "../python-env.js";
import { specFile, tempDir } from "./helpers.js";

const SPEC = `task: sycophancy
preset: micro
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  trainer: grpo
  grpo:
    steps: 5
    lr: 0.0003
    lrSchedule: cosine
    warmupSteps: 1
    batchSize: 16
    numGenerations: 4
    miniBatchSize: 4
    gradAccum: 2
    numIterations: 2
    scaleRewards: none
    lossType: dr_grpo
    epsilon: 0.15
    epsilonHigh: 0.28
    beta: 0.04
    entropy: { start: 0.01, end: 0.01 }
    temperature: { start: 0.9, end: 0.9 }
    maxNewTokens: 3
    maxGradNorm: 0.5
    weightDecay: 0.01
    seed: 7
    checkpointEvery: 2
    keepCheckpoints: 3
`;

test(
  "every GRPO option maps onto TRL's GRPOConfig key; TRL's own config agrees",
  { skip: skipUnlessPython("trl") },
  async () => {
    const dir = tempDir("trl-grpo");
    const spec = specFile(dir, "grpo.yaml", SPEC);
    const out = join(dir, "export");
    await exportSpec({ spec, target: "trl", out });
    const x = await loadExperiment(spec);
    const g = GrpoConfigSchema.parse(x.def.train.kind === "rl" ? x.def.train.grpo!(x.config) : {});
    const file = join(out, "jobs", "train-mst-b0-s0", "trl.json");
    const exported = JSON.parse(readFileSync(file, "utf8")) as { trainer: string; args: Record<string, unknown> };
    assert.equal(exported.trainer, "grpo");
    const r = JSON.parse(runPython(testSourcePath("python/trl_grpo_config.py"), [file, join(dir, "trl-out")])) as {
      trl_version: string;
      config: Record<string, unknown>;
    };
    assert.match(r.trl_version, /^1\.13\./);
    const c = r.config;
    // optimizer steps per generation batch: 2 passes x 16 / (4 x 2) = 4
    const per = 4;
    const expected: Record<string, unknown> = {
      learning_rate: g.lr,
      lr_scheduler_type: "cosine",
      warmup_steps: g.warmupSteps * per,
      weight_decay: g.weightDecay,
      max_steps: g.steps * per,
      generation_batch_size: g.batchSize,
      num_generations: g.numGenerations,
      per_device_train_batch_size: g.miniBatchSize,
      gradient_accumulation_steps: g.gradAccum,
      num_iterations: g.numIterations,
      scale_rewards: g.scaleRewards,
      loss_type: g.lossType,
      epsilon: g.epsilon,
      epsilon_high: g.epsilonHigh,
      beta: g.beta,
      entropy_coef: g.entropy.start,
      temperature: g.temperature.start,
      max_completion_length: g.maxNewTokens,
      max_grad_norm: g.maxGradNorm,
      seed: g.seed,
      save_strategy: "steps",
      save_steps: g.checkpointEvery * per,
      save_total_limit: g.keepCheckpoints,
      // TRL derives the micro-batches per generation batch from generation_batch_size / per_device_train_batch_size
      steps_per_generation: g.batchSize / g.miniBatchSize,
    };
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(c[k], v, `GRPOConfig.${k}`);
    // TRL regenerates every steps_per_generation x num_iterations micro-batches: as many generation batches as mst steps
    const microBatches = (c.max_steps as number) * (c.gradient_accumulation_steps as number);
    assert.equal(microBatches / ((c.steps_per_generation as number) * (c.num_iterations as number)), g.steps);
    // every GrpoConfig field is accounted for in RECIPE.md's knob table
    const knobCells = readFileSync(join(out, "RECIPE.md"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("| grpo."))
      .map((l) => l.split("|")[1]);
    for (const k of Object.keys(GrpoConfigSchema.shape))
      if (k !== "lora")
        assert.ok(
          knobCells.some((cell) => new RegExp(`\\b${k}\\b`).test(cell)),
          `RECIPE.md's knob table names grpo ${k}`,
        );
  },
);

test("a PPO-only target refuses a GRPO task instead of exporting PPO settings the run never used", async () => {
  const dir = tempDir("verl-grpo");
  const spec = specFile(dir, "grpo.yaml", SPEC);
  await assert.rejects(
    exportSpec({ spec, target: "verl", out: join(dir, "verl") }),
    /trains with GRPO .* --target trl/,
  );
});
