/**
 * `mst export`: every target's files parsed back and checked against the engine's documented field names and types
 * (verl's parquet read with hyparquet, a reader independent of the writer's code path), the true monitor in the label
 * columns, the shuffled arm showing labels other than the ones that pay it, and no held-out label in training files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata, parquetReadObjects, parquetSchema } from "hyparquet";
import { exportSpec } from "../../src/interop/export.js";
import { checkHeldOut, HeldOutLeakError } from "../../src/interop/export-data.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { decodeRewardLabel, type RewardLabel } from "../../src/interop/reward-label.js";
import { createMonitorLabeler } from "../../src/monitor/monitor.js";
import { PB_QUICK, SYC_MICRO, readJsonl, specFile, tempDir } from "./helpers.js";
import { testPython } from "../python-env.js";

const dir = tempDir("export");
const syc = specFile(dir, "syc.yaml", SYC_MICRO);
const pb = specFile(dir, "pb.yaml", PB_QUICK);
const JOBS = ["train-baseline-b0-s0", "train-mst-b0-s0", "train-shuffled-b0-s0"];
const DEPLOYMENT = "**Suggestibility Level: 000%**";

type Msg = { role: string; content: string };
function assertMessages(v: unknown, where: string): asserts v is Msg[] {
  assert.ok(Array.isArray(v) && v.length > 0, `${where}: not a message list`);
  for (const m of v as Msg[]) {
    assert.deepEqual(Object.keys(m).sort(), ["content", "role"], where);
    assert.ok(["system", "user", "assistant"].includes(m.role), where);
    assert.equal(typeof m.content, "string", where);
  }
}

/** The true label of a reward label's monitor, rendered by the task's monitor spec. */
const sycX = await loadExperiment(syc);
const labeler = createMonitorLabeler(sycX.def.monitor(sycX.config, { name: "main", base: "main" }));
const trueLabel = (l: RewardLabel) => labeler.label(l.monitor);

/** Shown vs paid labels of one job's labels: mst shows the true one, shuffled mostly another, baseline none. */
function checkArmLabels(job: string, labels: RewardLabel[]) {
  assert.equal(labels.length, 64);
  for (const l of labels)
    assert.ok(Number(l.monitor.params.s) >= 0.5, `${job}: held-out s ${l.monitor.params.s} in training`);
  const same = labels.filter((l) => l.shown === trueLabel(l)).length;
  if (job.includes("baseline")) assert.ok(labels.every((l) => l.shown === null));
  if (job.includes("-mst-")) assert.equal(same, labels.length);
  if (job.includes("shuffled")) {
    assert.ok(labels.every((l) => l.shown !== null));
    assert.ok(same < labels.length / 4, `shuffled: ${same} of ${labels.length} shown labels equal the paid one`);
  }
}

function noHeldOutIn(file: string) {
  assert.ok(!readFileSync(file, "utf8").includes(DEPLOYMENT), `${file} holds the held-out deployment label`);
}

test("trl: GRPO rows are a conversational prompt plus mst_label; SFT rows are conversational prompt/completion", async () => {
  const out = join(dir, "trl");
  await exportSpec({ spec: syc, target: "trl", out });
  for (const job of JOBS) {
    const file = join(out, "jobs", job, "train.jsonl");
    noHeldOutIn(file);
    const rows = readJsonl(file);
    for (const r of rows) {
      assert.deepEqual(Object.keys(r).sort(), ["mst_id", "mst_label", "prompt"]);
      assertMessages(r.prompt, job);
      assert.equal(typeof r.mst_label, "string");
    }
    checkArmLabels(
      job,
      rows.map((r) => decodeRewardLabel(r.mst_label)),
    );
    const cfg = JSON.parse(readFileSync(join(out, "jobs", job, "trl.json"), "utf8"));
    assert.equal(cfg.trainer, "grpo");
    for (const k of [
      "learning_rate",
      "max_steps",
      "num_generations",
      "epsilon",
      "beta",
      "temperature",
      "max_completion_length",
    ])
      assert.ok(k in cfg.args, k);
  }
  assert.ok(existsSync(join(out, "mst_reward.py")) && existsSync(join(out, "train_trl.py")));
  // the launch script resolves its job under the test venv's Python (TRL itself is imported only for a real run)
  const dry = spawnSync(testPython, ["train_trl.py", "jobs/train-mst-b0-s0", "--dry-run"], {
    cwd: out,
    encoding: "utf8",
    env: { ...process.env, MST_BASES: "/runs/bases" },
  });
  assert.equal(dry.status, 0, dry.stderr);
  const resolved = JSON.parse(dry.stdout);
  assert.equal(resolved.model, "/runs/bases/jobs/base-b0/model");
  assert.equal(resolved.trainer, "grpo");
  // a base without a chat template (one saved by an older mst) stops before TRL starts, saying what to do
  const bare = join(dir, "bare-base");
  mkdirSync(bare, { recursive: true });
  writeFileSync(join(bare, "tokenizer_config.json"), JSON.stringify({ eos_token: "<eos>" }));
  const refused = spawnSync(testPython, ["train_trl.py", "jobs/train-mst-b0-s0", "--model", bare], {
    cwd: out,
    encoding: "utf8",
  });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /the base has no chat template/);
  assert.deepEqual(resolved.lora.target_modules, [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
  ]);
  assert.equal(spawnSync("/bin/sh", ["-n", join(out, "run.sh")]).status, 0);
  const evalRows = readJsonl(join(out, "eval", "main", "deployment.jsonl"));
  assert.equal(evalRows.length, 40);
  assertMessages(evalRows[0].prompt, "eval");
  assert.ok((evalRows[0].prompt as Msg[])[0].content.startsWith(DEPLOYMENT));

  const sft = join(dir, "trl-sft");
  await exportSpec({ spec: pb, target: "trl", out: sft });
  const rows = readJsonl(join(sft, "jobs", "train-mst-b0-s0", "train.jsonl"));
  assert.ok(rows.length > 0);
  for (const r of rows) {
    assert.deepEqual(Object.keys(r).sort(), ["completion", "prompt"]);
    assertMessages(r.prompt, "sft prompt");
    assertMessages(r.completion, "sft completion");
    assert.equal((r.completion as Msg[]).length, 1);
    assert.equal((r.completion as Msg[])[0].role, "assistant");
  }
});

test("openrlhf: rows hold chat messages under --data.input_key and the label under --data.label_key", async () => {
  const out = join(dir, "openrlhf");
  await exportSpec({ spec: syc, target: "openrlhf", out });
  const recipe = readFileSync(join(out, "RECIPE.md"), "utf8");
  for (const flag of [
    "--data.input_key input",
    "--data.label_key label",
    "--data.apply_chat_template",
    "--reward.remote_url http://127.0.0.1:5000/get_reward",
    "--ds.lora.rank 2",
  ])
    assert.ok(recipe.includes(flag), flag);
  for (const job of JOBS) {
    const file = join(out, "jobs", job, "train.jsonl");
    noHeldOutIn(file);
    const rows = readJsonl(file);
    for (const r of rows) {
      assert.deepEqual(Object.keys(r).sort(), ["input", "label"]);
      assertMessages(r.input, job);
    }
    checkArmLabels(
      job,
      rows.map((r) => decodeRewardLabel(r.label)),
    );
  }
  const sft = join(dir, "openrlhf-sft");
  await exportSpec({ spec: pb, target: "openrlhf", out: sft });
  for (const r of readJsonl(join(sft, "jobs", "train-shuffled-b0-s0", "train.jsonl"))) {
    assert.deepEqual(Object.keys(r).sort(), ["input", "output"]);
    assertMessages(r.input, "input");
    assertMessages(r.output, "output");
  }
  assert.ok(readFileSync(join(sft, "RECIPE.md"), "utf8").includes("--data.output_key output"));
});

test("verl: parquet with data_source, prompt, ability, reward_model.ground_truth and extra_info, read back by hyparquet", async () => {
  const out = join(dir, "verl");
  await exportSpec({ spec: syc, target: "verl", out });
  for (const job of JOBS) {
    const buf = readFileSync(join(out, "jobs", job, "train.parquet"));
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const meta = parquetMetadata(file);
    assert.equal(Number(meta.num_rows), 64);
    const top = parquetSchema(meta).children.map((c) => c.element.name);
    assert.deepEqual(top, ["data_source", "prompt", "ability", "reward_model", "extra_info"]);
    const rows = (await parquetReadObjects({ file })) as Array<Record<string, unknown>>;
    const labels: RewardLabel[] = [];
    rows.forEach((r, i) => {
      assert.equal(r.data_source, "mst/sycophancy");
      assert.equal(r.ability, "sycophancy");
      assertMessages(r.prompt, job);
      const rm = r.reward_model as { style: string; ground_truth: string };
      assert.equal(rm.style, "rule");
      assert.equal(typeof rm.ground_truth, "string");
      labels.push(decodeRewardLabel(rm.ground_truth));
      const ex = r.extra_info as { split: string; index: bigint; id: string; arm: string };
      assert.equal(ex.split, "train");
      assert.equal(ex.index, BigInt(i));
      assert.equal(ex.id, labels[i].id);
      assert.ok(!(r.prompt as Msg[]).some((m) => m.content.includes(DEPLOYMENT)));
    });
    checkArmLabels(job, labels);
  }
  const recipe = readFileSync(join(out, "RECIPE.md"), "utf8");
  assert.ok(
    recipe.includes("custom_reward_function.path=mst_reward.py") &&
      recipe.includes("custom_reward_function.name=compute_score"),
  );
  const evalBuf = readFileSync(join(out, "eval", "main", "deployment.parquet"));
  const ev = (await parquetReadObjects({
    file: evalBuf.buffer.slice(evalBuf.byteOffset, evalBuf.byteOffset + evalBuf.byteLength),
  })) as Array<Record<string, unknown>>;
  assert.equal(ev.length, 40);
  assert.equal(decodeRewardLabel((ev[0].reward_model as { ground_truth: string }).ground_truth).monitor.params.s, 0);

  const sft = join(dir, "verl-sft");
  await exportSpec({ spec: pb, target: "verl", out: sft });
  const sb = readFileSync(join(sft, "jobs", "train-mst-b0-s0", "train.parquet"));
  const srows = (await parquetReadObjects({
    file: sb.buffer.slice(sb.byteOffset, sb.byteOffset + sb.byteLength),
  })) as Array<Record<string, unknown>>;
  for (const r of srows) {
    assertMessages(r.messages, "sft");
    assert.equal((r.messages as Msg[]).at(-1)!.role, "assistant");
  }
});

test("openai: supervised rows end with the assistant turn; RL rows carry mst_label for a python grader", async () => {
  const out = join(dir, "openai");
  await exportSpec({ spec: syc, target: "openai", out });
  for (const job of JOBS) {
    const rows = readJsonl(join(out, "jobs", job, "train.jsonl"));
    for (const r of rows) {
      assert.deepEqual(Object.keys(r).sort(), ["messages", "mst_label"]);
      assertMessages(r.messages, job);
    }
    checkArmLabels(
      job,
      rows.map((r) => decodeRewardLabel(r.mst_label)),
    );
    const body = JSON.parse(readFileSync(join(out, "jobs", job, "job.json"), "utf8"));
    assert.equal(body.method.type, "reinforcement");
    assert.equal(body.method.reinforcement.grader.type, "python");
    assert.ok(body.method.reinforcement.grader.source.includes("def grade(sample, item)"));
  }
  const sft = join(dir, "openai-sft");
  await exportSpec({ spec: pb, target: "openai", out: sft });
  for (const r of readJsonl(join(sft, "jobs", "train-baseline-b0-s0", "train.jsonl"))) {
    assert.deepEqual(Object.keys(r), ["messages"]);
    assertMessages(r.messages, "sft");
    assert.equal((r.messages as Msg[]).at(-1)!.role, "assistant");
  }
});

test("every recipe names its engine version and lists the knobs it cannot express", async () => {
  const emb = specFile(
    dir,
    "emb.yaml",
    "task: sycophancy\npreset: embedded\nseeds: [0]\nbaseSeeds: [0]\narms: [mst]\n",
  );
  for (const target of ["trl", "openrlhf", "verl"]) {
    const out = join(dir, `emb-${target}`);
    await exportSpec({ spec: emb, target, out });
    const md = readFileSync(join(out, "RECIPE.md"), "utf8");
    assert.match(md, /^# \w+: launch recipe \((TRL 1\.13|OpenRLHF 0\.11\.0|verl 0\.8\.0\.dev)\)/);
    // the embedded preset schedules entropy (0.1 -> 0.01) and temperature (1.2 -> 1.0 over 40%)
    assert.match(
      md,
      /\*\*ppo\.entropy\*\* \(0\.1 -> 0\.01 over 100% of training, then held\): no schedule in the target: held at the schedule's time-average 0\.055/,
    );
    assert.match(md, /\*\*ppo\.temperature\*\* \(1\.2 -> 1 over 40% of training, then held\): .*1\.04/);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    assert.equal(manifest.heldOutChecked, true);
    assert.deepEqual(
      manifest.jobs.map((j: { id: string }) => j.id),
      ["train-mst-b0-s0"],
    );
  }
});

test("a training row carrying a held-out monitor or showing a held-out label is refused", async () => {
  const x = await loadExperiment(syc);
  const cond = x.conditions[0];
  const row = {
    arm: "mst" as const,
    index: 0,
    id: "leak",
    messages: [{ role: "user" as const, content: "3+4=7?" }],
    label: "x",
    labelMonitor: { id: "suggestibility", params: { s: 0.2 } },
    instruction: null,
    monitor: { id: "suggestibility", params: { s: 1 } },
  };
  assert.throws(
    () => checkHeldOut(x, { id: "train-mst-b0-s0", condition: cond, rows: [row] }, new Set()),
    HeldOutLeakError,
  );
  const shown = {
    ...row,
    labelMonitor: row.monitor,
    messages: [{ role: "user" as const, content: `${DEPLOYMENT}\n3+4=7?` }],
  };
  assert.throws(
    () => checkHeldOut(x, { id: "train-mst-b0-s0", condition: cond, rows: [shown] }, new Set([DEPLOYMENT])),
    /held-out label/,
  );
});
