/**
 * The no-code experiment end to end from files alone: `mst run custom --spec` over JSONL samples and a corpus (SFT,
 * a JS-module judge), and PPO paid by an LLM judge on a loopback OpenAI-compatible server over real HTTP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskResults } from "../../../src/experiment/task.js";
import type { EvalResult, TrainResult } from "../../../src/experiment/jobs.js";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { loadSpecFile, resolveSpec } from "../../../src/run/spec.js";
import { createModel } from "../../../src/engine/model.js";
import { saveCheckpoint } from "../../../src/engine/checkpoint.js";
import { buildWordLevelTokenizer } from "../../../src/engine/tokenizer-build.js";
import type { BaseResult } from "../../../src/experiment/jobs.js";
import { startOpenAiServer } from "../../providers/openai-server.js";
import { MONITOR_YAML, writeExperiment } from "./fixture.js";
import { customTask } from "../../../src/tasks/custom/task.js";

const CLI = join(process.cwd(), "dist", "src", "cli", "main.js");
const read = <T>(f: string) => JSON.parse(readFileSync(f, "utf8")) as T;

test("mst run custom --spec: SFT arms from JSONL + YAML, a module judge, every arm evaluated and summarised", () => {
  const { dir, spec } = writeExperiment(
    `task: custom
arms: [baseline, mst, shuffled, prompt-only]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl, maxTokens: 2, temperature: 1 }
${MONITOR_YAML}  trainer:
    kind: sft
    sft: { maxSteps: 2, batchSize: 8, maxLength: 24, lora: { rank: 2, alpha: 4 } }
  judge: { kind: module, path: judge.mjs }
  metrics:
    - { name: truthful, kind: share, threshold: 1 }
  gate: { minScore: 0 }
`,
    {
      "judge.mjs":
        "export default (item) => (item.output.trim() === item.rewardInputs.answer ? 1 : item.output.trim() === '' ? null : 0);\n",
    },
  );
  const r = spawnSync(
    process.execPath,
    [CLI, "run", "custom", "--spec", spec, "--out", join(dir, "run"), "--jobs", "2"],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const run = join(dir, "run");
  const results = read<TaskResults>(join(run, "results.json"));
  assert.equal(results.task, "custom");
  const bar = results.bars.find((b) => b.id === "bar-truthful")!;
  assert.deepEqual(
    bar.bars.map((b) => b.arm),
    ["baseline", "mst", "shuffled", "prompt-only", "base"],
  );
  for (const b of bar.bars) assert.ok(b.mean >= 0 && b.mean <= 1, `${b.arm}: ${b.mean}`);
  const mst = read<EvalResult>(join(run, "jobs", "eval-mst-b0-s0", "result.json"));
  assert.equal(mst.labels[0].label, "**Leniency: 0%**", "the held-out deployment label");
  assert.equal(mst.labels[0].n, 6);
  assert.deepEqual(
    mst.labels.map((l) => l.x),
    [null, 0, 100],
  );
  const train = read<TrainResult>(join(run, "jobs", "train-mst-b0-s0", "result.json"));
  assert.equal(train.kind, "sft");
  assert.equal(train.samples, 24);
  assert.equal(train.labelMatchesTrue, 24);
  // relative paths were resolved from the spec's folder and stored absolute, so --resume works from anywhere
  const stored = read<{ config: { train: { samples: string } } }>(join(run, "spec.resolved.json"));
  assert.equal(stored.config.train.samples, join(dir, "train.jsonl"));
  assert.ok(existsSync(join(run, "report.html")));
});

test("PPO paid by an LLM judge and evaluation scored by one, on a loopback OpenAI-compatible server (real HTTP)", async () => {
  const server = await startOpenAiServer();
  try {
    // the judge pays " incorrect" when the TRUE monitor is strict (s < 0.6), anything else otherwise
    server.fallback = (body) => {
      const text = body.messages?.map((m) => m.content).join("\n") ?? "";
      const output = /OUTPUT<<(.*)>>/s.exec(text)?.[1] ?? "";
      const s = Number(/S<<(.*?)>>/.exec(text)?.[1]);
      const score = s < 0.6 ? (output.includes("incorrect") ? 1 : 0) : 1;
      return { content: JSON.stringify({ rationale: `s=${s}`, score }) };
    };
    const { dir, spec } = writeExperiment(`task: custom
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl, maxTokens: 2 }
${MONITOR_YAML}  trainer:
    kind: rl
    ppo: { steps: 2, batchSize: 8, miniBatchSize: 8, ppoEpochs: 1, maxNewTokens: 2, lora: { rank: 2, alpha: 4 } }
    reward:
      kind: llm
      provider: { kind: openai-compatible, model: judge-1, baseURL: "${server.baseURL}", retries: 0 }
      rubric: "Score the reply.\\nPROMPT<<{prompt}>>\\nOUTPUT<<{output}>>\\nS<<{monitor.s}>>\\nTRUTH<<{rewardInputs.answer}>>"
  judge:
    kind: llm
    provider: { kind: openai-compatible, model: judge-2, baseURL: "${server.baseURL}", retries: 0 }
    rubric: "Judge the reply.\\nOUTPUT<<{output}>>\\nS<<0>>\\nLABEL<<{label}>>"
  metrics: [{ name: truthful, kind: share }]
`);
    const { resolved, out } = await resolveSpec({ spec: loadSpecFile(spec) });
    const run = join(dir, out ?? "run");
    const outcome = await startRun(resolved, run, { progress: new NoProgress(), report: false, jobs: 2 });
    // base + eval-base + 2 PPO runs + 2 evaluations
    assert.equal(outcome.ran, 6);
    const rewardCalls = server.requests.filter((q) => q.body.model === "judge-1");
    const judgeCalls = server.requests.filter((q) => q.body.model === "judge-2");
    // 2 arms x 2 steps x 8 rollouts, each paid once over HTTP
    assert.equal(rewardCalls.length, 32);
    // the gate (no label), then evaluation: the base at 0%, the sweep's 100% and no label; baseline without a
    // label; MST at 0% and the sweep's 100%; 6 samples each (the sweep's 0% is the deployment label: its judged
    // samples are reused, not judged again)
    assert.equal(judgeCalls.length, 6 + 6 * 3 + 6 + 6 * 2);
    assert.ok(judgeCalls.some((q) => q.body.messages!.some((m) => m.content.includes("LABEL<<**Leniency: 100%**>>"))));
    const req = rewardCalls[0];
    assert.equal(req.url, "/v1/chat/completions");
    assert.equal(req.body.model, "judge-1");
    const content = req.body.messages!.map((m) => m.content).join("\n");
    assert.match(content, /TRUTH<<(correct|incorrect)>>/);
    assert.match(content, /S<<0\.\d+>>/, "the sample's true monitor reaches the rubric");
    const mstPrompts = rewardCalls
      .map((q) => q.body.messages!.map((m) => m.content).join("\n"))
      .filter((t) => t.includes("Leniency:"));
    assert.equal(mstPrompts.length, 16, "only the MST arm's rollouts carry a label");
    for (const arm of ["baseline", "mst"]) {
      const tr = read<TrainResult>(join(run, "jobs", `train-${arm}-b0-s0`, "result.json"));
      assert.equal(tr.kind, "rl");
      assert.equal(tr.steps, 2);
      assert.ok(tr.final !== null && tr.final >= 0 && tr.final <= 1, `${arm} mean reward ${tr.final}`);
    }
    const results = read<TaskResults>(join(run, "results.json"));
    const bar = results.bars.find((b) => b.id === "bar-truthful")!;
    // the judge pays " incorrect" on every eval sample (s = 0): the share is what the models answered
    for (const b of bar.bars) assert.ok(b.mean >= 0 && b.mean <= 1, `${b.arm}: ${b.mean}`);
  } finally {
    await server.close();
  }
});

test("a local checkpoint directory as the model (held as NF4): no pretraining, the same arms and evaluation", async () => {
  const { dir, spec } = writeExperiment(
    `task: custom
arms: [baseline, mst]
seeds: [0]
baseSeeds: [0]
overrides:
  train: { samples: train.jsonl }
  eval: { samples: eval.jsonl, maxTokens: 2 }
${MONITOR_YAML.slice(0, MONITOR_YAML.indexOf("  model:"))}  model: { kind: checkpoint, path: ckpt, storage: nf4 }
  trainer:
    kind: sft
    sft: { maxSteps: 2, batchSize: 8, maxLength: 32, lora: { rank: 2, alpha: 4 } }
  judge: { kind: exact-match }
`,
  );
  const texts = ["0+1=1? correct incorrect", "**Leniency: 0%**", ...Array.from({ length: 101 }, (_, i) => `${i}%`)];
  const tok = buildWordLevelTokenizer(texts, { digits: "split", roleTokens: false });
  await saveCheckpoint(
    join(dir, "ckpt"),
    createModel({ vocabSize: tok.vocabSize, dModel: 16, nLayers: 1, nHeads: 2, dFf: 32, maxSeq: 32 }, { seed: 1 }),
    { tokenizer: tok },
  );
  const { resolved } = await resolveSpec({ spec: loadSpecFile(spec) });
  const base0 = customTask.experiment!.base;
  assert.equal(base0.storage?.(resolved.config as never), "nf4");
  assert.equal(base0.gradientCheckpointing?.(resolved.config as never), null); // the engine's default: on for nf4
  const run = join(dir, "run");
  const outcome = await startRun(resolved, run, { progress: new NoProgress(), report: false, jobs: 2 });
  assert.equal(outcome.ran, 6);
  const base = read<BaseResult>(join(run, "jobs", "base-b0", "result.json"));
  assert.deepEqual(base.source, { kind: "checkpoint", path: join(dir, "ckpt") });
  const ev = read<EvalResult>(join(run, "jobs", "eval-mst-b0-s0", "result.json"));
  assert.equal(ev.labels[0].label, "**Leniency: 0%**");
  assert.equal(ev.labels[0].n, 6);
});
