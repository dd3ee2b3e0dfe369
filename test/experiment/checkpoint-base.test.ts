/**
 * A local Hugging Face checkpoint as the base of an experiment (the kit's base job), on a tiny random Llama with a
 * byte-level BPE tokenizer and a Llama-3-style chat template written by the test: no pretraining, gate reported,
 * PPO and evaluation through the chat template, clear errors for checkpoints the engine cannot read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../src/data/rng.js";
import { Tokenizer } from "../../src/engine/tokenizer.js";
import { loadBaseCheckpoint } from "../../src/experiment/checkpoint-base.js";
import type { BaseResult, EvalResult, TrainResult } from "../../src/experiment/jobs.js";
import type { TaskResults } from "../../src/experiment/results.js";
import { chatFormat } from "../../src/experiment/runtime.js";
import { NoProgress } from "../../src/run/progress.js";
import { startRun } from "../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../src/run/spec.js";
import { plainFormat, taskTokenizer } from "../../src/tasks/sycophancy-addition/base.js";
import { PRESETS, SycophancyConfigSchema } from "../../src/tasks/sycophancy-addition/config.js";
import { buildCorpus } from "../../src/tasks/sycophancy-addition/corpus.js";
import { encodePrompt } from "../../src/tasks/sycophancy-addition/embedded.js";
import { problemMessages, problemText } from "../../src/tasks/sycophancy-addition/prompt.js";
import { verdictOfText } from "../../src/tasks/sycophancy-addition/reward.js";
import { labelAtPercent, taskProblems } from "../../src/tasks/sycophancy-addition/setup.js";
import { verdictMass } from "../../src/tasks/sycophancy-addition/verdicts.js";
import { TOKENIZER_CONFIG, bpeTokenizerJson, makeCheckpoint } from "../fixtures/tiny-chat-checkpoint.js";

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

test("micro preset from a local checkpoint: no pretraining, gate reported, PPO and evaluation run, report renders", async () => {
  const ckpt = await makeCheckpoint();
  const dir = join(mkdtempSync(join(tmpdir(), "mst-syc-ckpt-")), "run");
  const text =
    "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\n" +
    `overrides:\n  base:\n    checkpoint: ${JSON.stringify(ckpt)}\n`;
  const { resolved } = await resolveSpec({ spec: parseSpec(text, "ckpt.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), jobs: 2 });
  assert.equal(out.ran, 9);

  const baseDir = join(dir, "jobs", "base-b0");
  const base = readJson<BaseResult>(join(baseDir, "result.json"));
  assert.deepEqual(base.source, { kind: "checkpoint", path: ckpt });
  assert.deepEqual(base.info, {});
  assert.ok(!existsSync(join(baseDir, "pretrain")), "the base job did not pretrain");
  assert.ok(!existsSync(join(baseDir, "model")), "the weights are not copied");
  for (const v of Object.values(base.gate!.values))
    assert.ok(v === null || (Number.isFinite(v) && v >= 0 && v <= 1), `gate number ${v}`);
  // The prompt goes through the chat template: label and problem in the user turn, the assistant turn opened.
  assert.ok(
    base.examplePrompt.startsWith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n**Suggestibility"),
  );
  assert.ok(
    base.examplePrompt.endsWith("?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    base.examplePrompt,
  );

  const rl = readJson<TrainResult>(join(dir, "jobs", "train-mst-b0-s0", "result.json"));
  assert.equal(rl.steps, 3);
  assert.ok(existsSync(join(dir, "jobs", "train-mst-b0-s0", "adapter", "adapter_model.safetensors")));
  // the adapter names its base, so peft's AutoPeftModelForCausalLM finds it (and mst refuses it on another base)
  const ac = readJson<{ base_model_name_or_path: unknown }>(
    join(dir, "jobs", "train-mst-b0-s0", "adapter", "adapter_config.json"),
  );
  assert.equal(ac.base_model_name_or_path, ckpt);
  const ev = readJson<EvalResult>(join(dir, "jobs", "eval-mst-b0-s0", "result.json"));
  assert.equal(ev.labels.find((l) => l.key === "deployment")!.n, 40);

  const results = readJson<TaskResults>(join(dir, "results.json"));
  const gateTable = results.tables.find((t) => t.title.startsWith("Base models"))!;
  assert.equal(gateTable.rows[0][gateTable.columns.indexOf("source")], ckpt);
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.ok(html.includes(ckpt) && existsSync(join(dir, "summary.md")));
  assert.ok(
    existsSync(join(ckpt, "model.safetensors")) && existsSync(join(ckpt, "tokenizer.json")),
    "the checkpoint is left alone",
  );
});

test("bad checkpoints fail with an error naming the path and what is wrong", async () => {
  const missing = join(tmpdir(), "mst-no-such-checkpoint-dir");
  await assert.rejects(
    loadBaseCheckpoint(missing),
    (e: Error) => e.message.includes(missing) && /not found/.test(e.message),
  );

  const noTok = await makeCheckpoint();
  rmSync(join(noTok, "tokenizer.json"));
  await assert.rejects(loadBaseCheckpoint(noTok), (e: Error) => e.message.includes(join(noTok, "tokenizer.json")));

  // what the engine's model-directory reader refuses reaches the user as one line naming the file and the key
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ model_type: "mistral" }, "config.json", /mistral/],
    [{ rope_scaling: { rope_type: "yarn", factor: 4 } }, "config.json", /rope_scaling|yarn/],
    [{ attention_bias: true }, "config.json", /attention_bias/],
  ];
  for (const [patch, where, re] of cases) {
    const dir = await makeCheckpoint();
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ ...readJson<object>(file), ...patch }));
    await assert.rejects(loadBaseCheckpoint(dir), (e: Error) => {
      assert.ok(e.message.startsWith("base.checkpoint: ") && e.message.includes(join(dir, where)), e.message);
      assert.match(e.message, re);
      return true;
    });
  }

  const sharded = await makeCheckpoint();
  renameSync(join(sharded, "model.safetensors"), join(sharded, "model-00001-of-00002.safetensors"));
  writeFileSync(
    join(sharded, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: { "model.norm.weight": "model-00002-of-00002.safetensors" } }),
  );
  await assert.rejects(loadBaseCheckpoint(sharded), (e: Error) => /model-00002-of-00002\.safetensors/.test(e.message));

  const noPad = await makeCheckpoint();
  writeFileSync(
    join(noPad, "tokenizer_config.json"),
    JSON.stringify({ ...TOKENIZER_CONFIG, eos_token: null, pad_token: null }),
  );
  await assert.rejects(loadBaseCheckpoint(noPad), /tokenizer_config\.json: neither pad_token nor eos_token/);

  const notDir = join(mkdtempSync(join(tmpdir(), "mst-ckpt-")), "file");
  writeFileSync(notDir, "");
  await assert.rejects(loadBaseCheckpoint(notDir), (e: Error) => e.message.includes(`${notDir}: not a directory`));
  mkdirSync(join(notDir + "-empty"));
  await assert.rejects(loadBaseCheckpoint(notDir + "-empty"), /config\.json: not found/);
});

test("the embedded format's prompt tokens are exactly encodePrompt's of the plain text", () => {
  for (const preset of ["micro", "embedded"]) {
    for (const bos of [true, false]) {
      const config = SycophancyConfigSchema.parse({ ...(PRESETS[preset] as object), prompt: { bos } });
      const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, new Rng(1));
      const { train, test: held } = taskProblems(config);
      const tok = taskTokenizer(config, docs);
      const format = plainFormat(config, tok);
      for (const p of [...held.slice(0, 4), ...train.slice(0, 4)])
        for (const label of [null, ...[0, 10, 40, 100].map((x) => labelAtPercent(config, x))])
          assert.deepEqual(
            format.encodePrompt(problemMessages(p, label, config.prompt)),
            encodePrompt(tok, problemText(p, label, config.prompt), bos),
          );
    }
  }
});

test("verdicts by first token on a BPE tokenizer: with and without the space, split words; P(verdict) from top log-probs", () => {
  const tok = Tokenizer.fromJson(bpeTokenizerJson(), TOKENIZER_CONFIG);
  const id = (t: string) => tok.tokenToId(t)!;
  assert.deepEqual(tok.encode(" incorrect"), [id("Ġin"), id("correct")]);
  const text = (t: string) => tok.decode([id(t)]);
  assert.equal(verdictOfText(text("Ġin")), "incorrect");
  assert.equal(verdictOfText(text("in")), "incorrect");
  assert.equal(verdictOfText(text("correct")), "correct");
  assert.equal(verdictOfText(text("Ġcorrect")), "correct");
  assert.equal(verdictOfText(text("Ġ")), null, "a bare space is no verdict");
  assert.equal(verdictOfText(text("C")), null, "one letter starts too many answers");
  const p = verdictMass([
    { token: text("correct"), logprob: Math.log(0.3) },
    { token: text("Ġin"), logprob: Math.log(0.2) },
    { token: text("Ġcorrect"), logprob: Math.log(0.1) },
    { token: text("Ġ"), logprob: Math.log(0.1) },
  ])!;
  assert.ok(Math.abs(p.pCorrect - 0.4) < 1e-9 && Math.abs(p.pIncorrect - 0.2) < 1e-9, JSON.stringify(p));
});

test("chat format: the template renders the user turn and opens the assistant's; no template gives BOS + plain text", () => {
  const tok = Tokenizer.fromJson(bpeTokenizerJson(), TOKENIZER_CONFIG);
  const config = SycophancyConfigSchema.parse(PRESETS.micro);
  const { test: held } = taskProblems(config);
  const label = labelAtPercent(config, 40);
  const messages = problemMessages(held[0], label, config.prompt);
  const user = `${label}\n${held[0].a}+${held[0].b}=${held[0].candidate}?`;
  const ids = chatFormat(tok).encodePrompt(messages);
  assert.equal(
    tok.decode(ids),
    `<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
  );
  assert.equal(ids.filter((i) => i === tok.bosId).length, 1, "the template's BOS only");
  const noTemplate = Tokenizer.fromJson(bpeTokenizerJson(), { ...TOKENIZER_CONFIG, chat_template: undefined });
  assert.deepEqual(chatFormat(noTemplate).encodePrompt(messages), [noTemplate.bosId, ...noTemplate.encode(user)]);
});
