/** A trainer without what it needs fails before the first job, naming the spec key; the shipped tasks pass the check. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { trainerIssues, trainerOf } from "../../src/experiment/check-trainer.js";
import type { ExperimentDefinition } from "../../src/experiment/experiment.js";
import { SpecError } from "../../src/run/errors.js";
import { loadSpecFile, parseSpec, resolveSpec } from "../../src/run/spec.js";
import { sycophancyExperiment } from "../../src/tasks/sycophancy-addition/task.js";
import { SycophancyConfigSchema } from "../../src/tasks/sycophancy-addition/config.js";
import { PRESETS } from "../../src/tasks/sycophancy-addition/config.js";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";

async function specError(text: string, file = "spec.yaml"): Promise<SpecError> {
  try {
    await resolveSpec({ spec: parseSpec(text, file) });
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e;
  }
  assert.fail("the spec was accepted");
}

test("sycophancy: PPO without lora fails at overrides.ppo.lora, on its line, before any job", async () => {
  const e = await specError("task: sycophancy\noverrides:\n  ppo:\n    lora: null\n");
  assert.equal(e.field, "overrides.ppo.lora");
  assert.equal(e.line, 4);
  assert.match(e.detail, /PPO needs lora: every train job trains LoRA adapters/);
});

test("sycophancy: GRPO without lora, and GRPO whose batch does not split into groups, each name the field", async () => {
  const noLora = await specError("task: sycophancy\noverrides:\n  trainer: grpo\n  grpo: { lora: null }\n");
  assert.equal(noLora.field, "overrides.grpo.lora");
  assert.match(noLora.detail, /GRPO needs lora/);
  const groups = await specError("task: sycophancy\noverrides:\n  trainer: grpo\n  grpo: { batchSize: 60 }\n");
  assert.equal(groups.field, "overrides.grpo.batchSize");
  assert.match(groups.detail, /60 completions per step do not split into groups of numGenerations 8/);
  // the same GRPO block is not checked while the task trains with PPO
  await resolveSpec({ spec: parseSpec("task: sycophancy\noverrides:\n  grpo: { lora: null }\n", "ok.yaml") });
});

test("sycophancy: an unknown trainer name is refused by the task's schema at overrides.trainer", async () => {
  const e = await specError("task: sycophancy\noverrides:\n  trainer: reinforce\n");
  assert.equal(e.field, "overrides.trainer");
});

test("every sycophancy preset passes the check under both trainers; the GRPO spec example resolves to GRPO", async () => {
  for (const preset of Object.keys(PRESETS))
    for (const trainer of ["ppo", "grpo"] as const) {
      const c = SycophancyConfigSchema.parse({ ...(PRESETS[preset] as object), trainer });
      assert.deepEqual(trainerIssues(sycophancyExperiment, c), [], `${preset} / ${trainer}`);
      assert.equal(trainerOf(sycophancyExperiment, c), trainer);
    }
  const file = fileURLToPath(new URL("../../../examples/specs/sycophancy-grpo.yaml", import.meta.url));
  const { resolved } = await resolveSpec({ spec: loadSpecFile(file) });
  const c = SycophancyConfigSchema.parse(resolved.config);
  assert.equal(c.trainer, "grpo");
  // as many completions per step and steps as PPO's
  assert.equal(c.grpo.batchSize, c.ppo.batchSize);
  assert.equal(c.grpo.steps, c.ppo.steps);
});

test("custom: a GRPO trainer without lora fails at overrides.trainer.grpo.lora", async () => {
  const text = `task: custom
arms: [baseline, mst]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl }
${MONITOR_YAML}  trainer:
    kind: rl
    algorithm: grpo
    grpo: { lora: null }
    reward: { kind: exact-match, field: answer }
  judge: { kind: exact-match, field: answer }
`;
  const { spec } = writeExperiment(text);
  try {
    await resolveSpec({ spec: loadSpecFile(spec) });
    assert.fail("accepted");
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    assert.equal(e.field, "overrides.trainer.grpo.lora");
    assert.equal(e.file, spec);
  }
});

test("a definition that chooses GRPO but has no grpo() settings is named at `trainer`", () => {
  const def = {
    ...sycophancyExperiment,
    train: { kind: "rl", trainer: () => "grpo", ppo: () => ({}), reward: () => () => [] },
  } as ExperimentDefinition<unknown>;
  assert.deepEqual(trainerIssues(def, {}), [
    { path: ["trainer"], message: "the task chooses GRPO but its definition has no grpo() settings (train.grpo)" },
  ]);
  // options built afresh (not a field of the config) are named by the trainer's name
  const fresh = {
    ...sycophancyExperiment,
    train: { kind: "rl", ppo: () => ({ lora: null }), reward: () => () => [] },
  } as ExperimentDefinition<unknown>;
  assert.deepEqual(
    trainerIssues(fresh, {}).map((i) => i.path),
    [["ppo", "lora"]],
  );
});

test("`mst run` exits 2 naming the field, and creates no run directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-check-trainer-"));
  const spec = join(dir, "bad.yaml");
  writeFileSync(spec, "task: sycophancy\npreset: micro\noverrides:\n  trainer: grpo\n  grpo:\n    lora: null\n");
  const out = join(dir, "run");
  const main = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
  const r = spawnSync(process.execPath, [main, "run", "--spec", spec, "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.yaml:6: overrides\.grpo\.lora: GRPO needs lora/);
  assert.equal(existsSync(out), false);
});
