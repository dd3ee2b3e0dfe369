/**
 * `trainer: { engine: trl }` on the local executor, SFT: a custom SFT experiment whose train job writes its own TRL
 * export, runs 2 real TRL steps on the saved embedded base, and imports the adapter; evaluation and the report follow.
 * (The RL case, GRPO through sbatch, is in slurm.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { CUSTOM_HEAD, CUSTOM_TAIL } from "../interop/trl-round-trip.js";
import { skipUnlessPython, testPython } from "../python-env.js";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";

test(
  "an SFT arm trained by TRL inside mst run: export files in the job, 2 TRL steps, adapter imported, evaluated",
  { skip: skipUnlessPython("trl", "peft", "transformers", "datasets"), timeout: 280_000 },
  async (t) => {
    const { dir, spec } = writeExperiment(
      `${CUSTOM_HEAD}${MONITOR_YAML}  trainer:
    kind: sft
    sft: { maxSteps: 2, batchSize: 8, maxLength: 24, lora: { rank: 2, alpha: 4 } }
${CUSTOM_TAIL}trainer: { engine: trl, python: ${JSON.stringify(testPython)}, maxSteps: 2, maxRows: 16 }
`,
    );
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { resolved } = await resolveSpec({ spec: loadSpecFile(spec) });
    assert.equal(resolved.trainer?.engine, "trl");
    const run = join(dir, "run");
    const out = await startRun(resolved, run, { progress: new NoProgress(), jobs: 2 });
    const train = join(run, "jobs", "train-mst-b0-s0");
    const trl = JSON.parse(readFileSync(join(train, "trl", "jobs", "train-mst-b0-s0", "trl.json"), "utf8"));
    assert.equal(trl.trainer, "sft");
    // the embedded base the run saved is the model TRL trained
    assert.equal(trl.model, "$MST_BASES/jobs/base-b0/model");
    const log = readFileSync(join(train, "log.txt"), "utf8");
    assert.match(log, /train_runtime/);
    assert.match(log, /adapter .* verified against the base and imported/);
    assert.ok(existsSync(join(train, "adapter", "adapter_model.safetensors")));
    const result = JSON.parse(readFileSync(join(train, "result.json"), "utf8"));
    assert.equal(result.kind, "sft");
    assert.equal(result.samples, 24);
    assert.ok(existsSync(join(run, "jobs", "eval-mst-b0-s0", "result.json")));
    assert.ok(existsSync(join(run, "report.html")));
    assert.ok(out.ran >= 3);
  },
);
