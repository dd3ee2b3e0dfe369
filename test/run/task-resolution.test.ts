/**
 * One resolver for every command: a custom spec that trains by SFT and a plug-in task (examples/tasks/strict-grader,
 * loaded by its path) each go through run, `mst serve --run`, `mst eval`, export, serve-reward and import as what
 * they are: SFT jobs in the export and the import, no reward to serve, every arm served and evaluated.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSpec } from "../../src/interop/export.js";
import { importRuns } from "../../src/interop/import.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { createRewardServer } from "../../src/interop/reward-server.js";
import { evaluateEndpoint } from "../../src/run/endpoint-eval.js";
import { NoProgress } from "../../src/run/progress.js";
import { resumeRun, startRun } from "../../src/run/runner.js";
import { loadSpecFile, resolveSpec } from "../../src/run/spec.js";
import { modelsFromRun } from "../../src/serve/models.js";
import { MstServer } from "../../src/serve/server.js";
import { readJsonl, specFile, tempDir } from "../interop/helpers.js";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";

const PLUGIN = fileURLToPath(new URL("../../../examples/tasks/strict-grader/task.js", import.meta.url));

/** Every command on one spec; `trained` are the train job ids the run has. */
async function throughEveryCommand(spec: string, dir: string, trained: string[], taskName: string) {
  const quiet = { progress: new NoProgress(), report: false, jobs: 2 };
  const { resolved } = await resolveSpec({ spec: loadSpecFile(spec) });
  const run = join(dir, "run");
  await startRun(resolved, run, quiet);

  // mst serve --run and mst eval through it
  const { models } = await modelsFromRun(run);
  assert.deepEqual(models.map((m) => m.name).sort(), ["base", ...resolved.arms].sort());
  const server = new MstServer(models, { port: 0 });
  const url = await server.listen();
  try {
    const ev = await evaluateEndpoint(resolved, join(dir, "served"), { endpoint: url, ...quiet });
    assert.equal(ev.results.task, taskName);
  } finally {
    await server.close();
  }

  // export: SFT jobs with prompt/completion rows, no reward glue
  const exp = join(dir, "export");
  await exportSpec({ spec, target: "trl", out: exp });
  const manifest = JSON.parse(readFileSync(join(exp, "manifest.json"), "utf8"));
  assert.equal(manifest.kind, "sft");
  assert.deepEqual(
    manifest.jobs.map((j: { id: string }) => j.id),
    trained,
  );
  for (const j of manifest.jobs) assert.equal(j.kind, "sft");
  assert.equal(JSON.parse(readFileSync(join(exp, "jobs", trained[0], "trl.json"), "utf8")).trainer, "sft");
  assert.deepEqual(Object.keys(readJsonl(join(exp, "jobs", trained[0], "train.jsonl"))[0]).sort(), [
    "completion",
    "prompt",
  ]);
  assert.ok(!existsSync(join(exp, "mst_reward.py")));

  // serve-reward: an SFT task has no reward
  const x = await loadExperiment(spec, "mst serve-reward");
  assert.equal(x.def.train.kind, "sft");
  assert.throws(
    () => createRewardServer({ def: x.def, config: x.config, conditions: x.conditions, apiKey: null }),
    /trains with SFT: it has no reward to serve/,
  );

  // import: the run's adapters where TRL leaves them, back as SFT train results; resume evaluates them
  for (const id of trained)
    cpSync(join(run, "jobs", id, "adapter"), join(exp, "jobs", id, "output", "adapter"), { recursive: true });
  const back = join(dir, "imported");
  const r = await importRuns({ target: "trl", dir: exp, out: back, bases: run });
  assert.deepEqual(r.imported, trained);
  for (const id of trained)
    assert.equal(JSON.parse(readFileSync(join(back, "jobs", id, "result.json"), "utf8")).kind, "sft");
  const outcome = await resumeRun(back, quiet);
  assert.ok(outcome.ran > 0);
  assert.equal(JSON.parse(readFileSync(join(back, "results.json"), "utf8")).task, taskName);
}

test(
  "a custom spec with trainer: sft is SFT in run, serve, eval, export, serve-reward and import",
  { timeout: 300_000 },
  async () => {
    const { dir, spec } = writeExperiment(`task: custom
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl, maxTokens: 2, temperature: 1 }
${MONITOR_YAML}  trainer:
    kind: sft
    sft: { maxSteps: 2, batchSize: 8, maxLength: 24, lora: { rank: 2, alpha: 4 } }
  judge: { kind: exact-match, field: answer }
  metrics:
    - { name: truthful, kind: mean }
  gate: { minScore: 0 }
`);
    await throughEveryCommand(spec, dir, ["train-baseline-b0-s0", "train-mst-b0-s0"], "custom");
  },
);

test(
  "a plug-in task named by its path goes through run, serve, eval, export, serve-reward and import",
  { timeout: 300_000 },
  async () => {
    const dir = tempDir("plugin-commands");
    const spec = specFile(
      dir,
      "plugin.yaml",
      `task: ${JSON.stringify(PLUGIN)}
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  evalPairs: 4
  drawsPerPair: 2
  sweepLabels: [0, 100]
  model: { dModel: 16, nLayers: 1, dFf: 32 }
  pretrain: { steps: 4 }
  sft: { steps: 2, rank: 2 }
  eval: { samplesPerItem: 1, sweepSamplesPerItem: 1 }
`,
    );
    await throughEveryCommand(spec, dir, ["train-baseline-b0-s0", "train-mst-b0-s0"], "strict-grader");
  },
);
