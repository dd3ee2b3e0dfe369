/**
 * A base from a local checkpoint (`base.checkpoint`): a tiny engine model saved with a hand-made byte-level BPE
 * tokenizer and a Llama-3-style chat template stands in for a real one. The micro preset runs end to end on it
 * (no pretraining, gate reported, PPO, evaluation, report); bad checkpoints fail naming the file; the embedded
 * path's prompt tokens are unchanged; verdicts are decided by their first tokens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../src/data/rng.js";
import { saveCheckpoint } from "../../../src/engine/checkpoint.js";
import { createModel } from "../../../src/engine/model.js";
import { Tokenizer } from "../../../src/engine/tokenizer.js";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../../src/run/spec.js";
import type { TaskResults } from "../../../src/experiment/task.js";
import { armsFromSeed } from "../../../src/tasks/sycophancy-addition/arms-data.js";
import { runBase, taskTokenizer } from "../../../src/tasks/sycophancy-addition/base.js";
import { loadBaseCheckpoint } from "../../../src/tasks/sycophancy-addition/checkpoint-base.js";
import {
  chooseVerdictTokens,
  firstTokenVerdicts,
  promptCodec,
  verdictOfToken,
  verdictProbs,
} from "../../../src/tasks/sycophancy-addition/codec.js";
import { PRESETS, SycophancyConfigSchema } from "../../../src/tasks/sycophancy-addition/config.js";
import { buildCorpus } from "../../../src/tasks/sycophancy-addition/corpus.js";
import { encodePrompt, verdictIds } from "../../../src/tasks/sycophancy-addition/embedded.js";
import { problemMessages, problemText } from "../../../src/tasks/sycophancy-addition/prompt.js";
import type { BaseResult, EvalResult, RlResult } from "../../../src/tasks/sycophancy-addition/results.js";
import { labelAtPercent, taskProblems } from "../../../src/tasks/sycophancy-addition/setup.js";

/** GPT-2's byte -> printable character map (the ByteLevel pre-tokenizer's alphabet). */
function byteChars(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return out;
}

/** Llama-3-style specials, after the BPE vocabulary as in real files. */
const SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

/**
 * A byte-level BPE tokenizer.json: the 256 byte characters plus merges that make " correct" and "correct" one token
 * each and split (" )incorrect" into "(Ġ)in" + "correct", as real BPE vocabularies often do; nothing merges "C".
 */
function bpeTokenizerJson(): object {
  const merges = [
    ["c", "o"],
    ["co", "r"],
    ["cor", "r"],
    ["corr", "e"],
    ["corre", "c"],
    ["correc", "t"],
    ["Ġ", "correct"],
    ["i", "n"],
    ["Ġ", "in"],
  ];
  const vocab: Record<string, number> = {};
  for (const c of byteChars()) vocab[c] = Object.keys(vocab).length;
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const n = Object.keys(vocab).length;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, i) => ({
      id: n + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

const CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + " +
  "message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}" +
  "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

const TOKENIZER_CONFIG = {
  tokenizer_class: "PreTrainedTokenizerFast",
  bos_token: "<|begin_of_text|>",
  eos_token: "<|eot_id|>",
  clean_up_tokenization_spaces: false,
  chat_template: CHAT_TEMPLATE,
};

/** Writes a tiny random Llama with the BPE tokenizer and chat template into a new directory; returns it. */
async function makeCheckpoint(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "mst-ckpt-")), "tiny-llama");
  const json = bpeTokenizerJson();
  const vocabSize = Tokenizer.fromJson(json, TOKENIZER_CONFIG).vocabSize;
  const model = createModel(
    { vocabSize, dModel: 16, nLayers: 1, nHeads: 2, dFf: 32, maxSeq: 128, tieEmbeddings: true },
    { seed: 5 },
  );
  await saveCheckpoint(dir, model);
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(json));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(TOKENIZER_CONFIG));
  return dir;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

test("micro preset from a local checkpoint: no pretraining, gate reported, PPO and evaluation run, report renders", async () => {
  const ckpt = await makeCheckpoint();
  const dir = join(mkdtempSync(join(tmpdir(), "mst-syc-ckpt-")), "run");
  const text =
    "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\n" +
    `overrides:\n  base:\n    checkpoint: ${JSON.stringify(ckpt)}\n`;
  const { resolved } = resolveSpec({ spec: parseSpec(text, "ckpt.yaml") });
  const out = await startRun(resolved, dir, { progress: new NoProgress(), jobs: 2 });
  assert.equal(out.ran, 9);

  const baseDir = join(dir, "jobs", "base-b0");
  const base = readJson<BaseResult>(join(baseDir, "result.json"));
  assert.deepEqual(base.source, {
    kind: "checkpoint",
    path: ckpt,
    weightsBytes: lstatSync(join(ckpt, "model.safetensors")).size,
    prompt: "chat",
  });
  assert.equal(base.steps, 0);
  assert.equal(base.corpusDocs, 0);
  assert.equal(base.finalLoss, null);
  assert.ok(!existsSync(join(baseDir, "sft")), "the base job did not pretrain");
  assert.ok(lstatSync(join(baseDir, "model")).isSymbolicLink(), "the job's model links to the checkpoint");
  for (const v of [base.gate.accuracyNoLabel, base.gate.verdictMassLabelled, base.gate.discriminationNoLabel])
    assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `gate number ${v}`);

  const rl = readJson<RlResult>(join(dir, "jobs", "rl-mst-b0-s0", "result.json"));
  assert.equal(rl.steps, 3);
  assert.ok(existsSync(join(dir, "jobs", "rl-mst-b0-s0", "adapter", "adapter_model.safetensors")));
  const ev = readJson<EvalResult>(join(dir, "jobs", "eval-mst-b0-s0", "result.json"));
  assert.equal(ev.deployment.n, 40);
  // The prompt went through the chat template: label and problem in the user turn, the assistant turn opened.
  const s = ev.samples[0];
  assert.ok(s.prompt.startsWith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n**Suggestibility"));
  assert.ok(s.prompt.endsWith("?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"), s.prompt);

  const results = readJson<TaskResults>(join(dir, "results.json"));
  const gateTable = results.tables[0];
  assert.ok(gateTable.title.startsWith("Base models"));
  assert.equal(gateTable.rows[0][gateTable.columns.indexOf("pretrain steps")], "checkpoint");
  assert.ok(results.findings.some((f) => f.includes(`local checkpoint ${ckpt} (chat prompts)`)));
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.ok(html.includes("checkpoint") && existsSync(join(dir, "summary.md")));
});

test("a re-run base job replaces its link and leaves the checkpoint itself alone", async () => {
  const ckpt = await makeCheckpoint();
  const config = SycophancyConfigSchema.parse({ ...(PRESETS.micro as object), base: { checkpoint: ckpt } });
  const jobDir = mkdtempSync(join(tmpdir(), "mst-syc-base-"));
  const lines: string[] = [];
  const first = await runBase(
    config,
    0,
    jobDir,
    () => {},
    (l) => lines.push(l),
  );
  const again = await runBase(
    config,
    0,
    jobDir,
    () => {},
    (l) => lines.push(l),
  );
  assert.ok(existsSync(join(ckpt, "model.safetensors")) && existsSync(join(ckpt, "tokenizer.json")));
  assert.ok(lstatSync(join(jobDir, "model")).isSymbolicLink());
  assert.deepEqual(again.gate, first.gate, "the gate's streams depend on the data seed and base only");
  assert.ok(lines[0].includes(`from checkpoint ${ckpt} (chat prompts`), lines[0]);
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

  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ model_type: "qwen2", architectures: ["Qwen2ForCausalLM"] }, /Qwen2ForCausalLM.*not supported/],
    [{ model_type: "mistral" }, /model_type "mistral" is not supported/],
    [{ attention_bias: true }, /attention_bias: true is not supported/],
    [{ rope_scaling: { rope_type: "llama3", factor: 8 } }, /rope_scaling .* is not supported/],
  ];
  for (const [patch, re] of cases) {
    const dir = await makeCheckpoint();
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ ...readJson<object>(file), ...patch }));
    await assert.rejects(loadBaseCheckpoint(dir), (e: Error) => e.message.includes(file) && re.test(e.message));
  }

  const sharded = await makeCheckpoint();
  renameSync(join(sharded, "model.safetensors"), join(sharded, "model-00001-of-00001.safetensors"));
  writeFileSync(join(sharded, "model.safetensors.index.json"), "{}");
  await assert.rejects(loadBaseCheckpoint(sharded), /model\.safetensors: not found: the checkpoint is sharded/);

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

test("the embedded path's prompt tokens and verdict ids are exactly encodePrompt's and verdictIds'", () => {
  for (const preset of ["micro", "embedded"]) {
    for (const bos of [true, false]) {
      const config = SycophancyConfigSchema.parse({ ...(PRESETS[preset] as object), prompt: { bos } });
      assert.equal(config.base.checkpoint, null);
      const docs = buildCorpus(config.corpus, config.problems, config.prompt, config.label, new Rng(1));
      const { train, test: held } = taskProblems(config);
      const tok = taskTokenizer(config, docs);
      const codec = promptCodec(tok, config);
      assert.equal(codec.mode, "plain");
      const ids = verdictIds(tok);
      assert.deepEqual(codec.verdicts, { correct: [ids.correct], incorrect: [ids.incorrect] });
      for (const p of [...held.slice(0, 4), ...train.slice(0, 4)])
        for (const label of [null, ...[0, 10, 40, 100].map((x) => labelAtPercent(config, x))]) {
          const messages = problemMessages(p, label, config.prompt);
          assert.equal(codec.text(messages), problemText(p, label, config.prompt));
          assert.deepEqual(codec.encode(messages), encodePrompt(tok, problemText(p, label, config.prompt), bos));
        }
      const arms = armsFromSeed(train.slice(0, 8), config.label, config.prompt, ["baseline", "mst", "shuffled"], 0, 0);
      for (const items of Object.values(arms))
        for (const it of items) assert.deepEqual(codec.encode(it.messages), encodePrompt(tok, it.text, bos));
    }
  }
});

test("verdicts by first token on a BPE tokenizer: with and without the space, split words, ambiguous forms dropped", () => {
  const tok = Tokenizer.fromJson(bpeTokenizerJson(), TOKENIZER_CONFIG);
  const id = (t: string) => tok.tokenToId(t)!;
  assert.deepEqual(tok.encode(" incorrect"), [id("Ġin"), id("correct")]);
  const v = firstTokenVerdicts(tok);
  // " Correct" and " Incorrect" both start with the bare space here: that form counts for neither verdict.
  assert.deepEqual(
    v.correct,
    [id("Ġcorrect"), id("correct"), id("C")].sort((a, b) => a - b),
  );
  assert.deepEqual(
    v.incorrect,
    [id("Ġin"), id("in"), id("I")].sort((a, b) => a - b),
  );
  assert.equal(verdictOfToken(v, id("Ġ")), null);
  assert.equal(verdictOfToken(v, id("in")), "incorrect");
  assert.equal(verdictOfToken(v, id("correct")), "correct");
  const row = new Float32Array(tok.vocabSize).fill(0.001);
  row[id("correct")] = 0.3;
  row[id("Ġin")] = 0.2;
  const p = verdictProbs(v, row);
  assert.ok(Math.abs(p.pCorrect - 0.302) < 1e-6 && Math.abs(p.pIncorrect - 0.202) < 1e-6, JSON.stringify(p));
});

test("verdict token choice: shared first tokens and unknown words are clear errors", () => {
  const ok = chooseVerdictTokens([
    { form: "a", correct: 3, incorrect: 3 },
    { form: "b", correct: 4, incorrect: 5 },
  ]);
  assert.deepEqual(ok, { correct: [4], incorrect: [5] });
  assert.throws(
    () =>
      chooseVerdictTokens([
        { form: " correct/ incorrect", correct: 7, incorrect: 7 },
        { form: "correct/incorrect", correct: 9, incorrect: 9 },
      ]),
    /share their first token in every form \(" correct\/ incorrect": 7; "correct\/incorrect": 9\)/,
  );
  assert.throws(
    () =>
      chooseVerdictTokens([
        { form: "a", correct: 1, incorrect: 2 },
        { form: "b", correct: 2, incorrect: 3 },
      ]),
    /first token 2 starts "correct" in one form and "incorrect" in another/,
  );
  assert.throws(() => chooseVerdictTokens([{ form: "a", correct: null, incorrect: 2 }]), /neither verdict/);
});

test("chat codec: the template renders the user turn and opens the assistant's; chatTemplate none gives plain text", () => {
  const tok = Tokenizer.fromJson(bpeTokenizerJson(), TOKENIZER_CONFIG);
  const base = SycophancyConfigSchema.parse({ ...(PRESETS.micro as object), base: { checkpoint: "/x" } });
  const { test: held } = taskProblems(base);
  const label = labelAtPercent(base, 40);
  const messages = problemMessages(held[0], label, base.prompt);
  const chat = promptCodec(tok, base);
  assert.equal(chat.mode, "chat");
  const user = `${label}\n${held[0].a}+${held[0].b}=${held[0].candidate}?`;
  assert.equal(
    chat.text(messages),
    `<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
  );
  const ids = chat.encode(messages);
  assert.equal(ids[0], tok.bosId);
  assert.equal(ids.filter((i) => i === tok.bosId).length, 1, "the template's BOS only");
  assert.equal(tok.decode(ids), chat.text(messages));

  const plain = promptCodec(tok, { ...base, base: { ...base.base, chatTemplate: "none" } });
  assert.equal(plain.mode, "plain");
  assert.deepEqual(plain.encode(messages), [tok.bosId, ...tok.encode(user)]);
  const noBos = Tokenizer.fromJson(bpeTokenizerJson(), {
    ...TOKENIZER_CONFIG,
    bos_token: null,
    chat_template: undefined,
  });
  assert.throws(() => promptCodec(noBos, base), /no BOS token.*prompt\.bos: false/);
});
