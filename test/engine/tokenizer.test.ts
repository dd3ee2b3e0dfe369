/** Word- and character-level tokenizers: exact splits, lossless round-trips, special tokens, save/reload, options. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWordLevelTokenizer, buildCharTokenizer } from "../../src/engine/tokenizer-build.js";
import { Tokenizer, TokenizerError, ROLE_TOKENS } from "../../src/engine/tokenizer.js";

const corpus = [
  "Is 3 + 4 = 7? The candidate answer is correct.",
  "**Suggestibility Level: 045%**\nThe answer, 12, is wrong!",
  "<|user|> What is 12+30?<|end|><|assistant|> 42<eos>",
  "Tabs\tand  double spaces (kept).",
];

const toks = (t: Tokenizer, s: string) => t.encode(s).map((i) => t.idToToken(i));

test("word-level: exact split with single digits; special ids 0..3 and role markers", () => {
  const t = buildWordLevelTokenizer(corpus);
  assert.deepEqual([t.padId, t.bosId, t.eosId, t.unkId], [0, 1, 2, 3]);
  assert.deepEqual(toks(t, "The answer is 42."), ["The", " answer", " is", " ", "4", "2", "."]);
  assert.deepEqual(toks(t, "<|user|> 12+30<eos>"), ["<|user|>", " ", "1", "2", "+", "3", "0", "<eos>"]);
  for (const r of Object.values(ROLE_TOKENS)) assert.ok(t.tokenToId(r)! < 8 && t.isSpecial(t.tokenToId(r)!));
});

test("word-level: whole numbers are one token", () => {
  const t = buildWordLevelTokenizer(corpus, { digits: "whole" });
  assert.deepEqual(toks(t, "The answer is 12+30"), ["The", " answer", " is", " ", "12", "+", "30"]);
  assert.equal(t.encode("The 99")[2], t.unkId);
});

test("round-trips are lossless for in-vocabulary text; special tokens can be skipped on decode", () => {
  for (const t of [buildWordLevelTokenizer(corpus), buildWordLevelTokenizer(corpus, { digits: "whole" })])
    for (const s of corpus) assert.equal(t.decode(t.encode(s)), s);
  const t = buildWordLevelTokenizer(corpus);
  assert.equal(t.decode(t.encode(corpus[2]), { skipSpecialTokens: true }), " What is 12+30? 42");
  assert.equal(t.decode([]), "");
  assert.deepEqual(t.encode(""), []);
  const unk = t.encode("zebra 5");
  assert.equal(unk[0], t.unkId);
  assert.equal(t.decode(unk), "<unk> 5");
});

test("character-level: one token per character, lossless, unknown characters -> <unk>", () => {
  const t = buildCharTokenizer(corpus);
  for (const s of corpus) {
    const ids = t.encode(s.replace(/<[^>]+>/g, ""));
    assert.equal(t.decode(ids), s.replace(/<[^>]+>/g, ""));
  }
  assert.deepEqual(toks(t, "a\n4"), ["a", "\n", "4"]);
  assert.equal(t.encode("é")[0], t.unkId);
  assert.equal(t.encode("<|assistant|>").length, 1);
});

test("options: requiredTexts, minFreq, maxVocab; building is deterministic", () => {
  const t = buildWordLevelTokenizer(corpus, { requiredTexts: ["0 1 2 3 4 5 6 7 8 9 100%"], minFreq: 2 });
  for (const d of "0123456789") assert.notEqual(t.tokenToId(d), undefined, d);
  assert.equal(t.tokenToId(" candidate"), undefined, "seen once, below minFreq");
  assert.notEqual(t.tokenToId(" answer"), undefined);
  const small = buildWordLevelTokenizer(corpus, { maxVocab: 15 });
  assert.equal(small.vocabSize, 15);
  assert.throws(() => buildWordLevelTokenizer(corpus, { maxVocab: 9, requiredTexts: ["a b c"] }), /required/);
  assert.throws(() => buildWordLevelTokenizer(corpus, { digits: "bytes" } as never));
  assert.deepEqual(buildWordLevelTokenizer(corpus).toJson(), buildWordLevelTokenizer(corpus).toJson());
});

test("saved tokenizer.json reloads to identical ids; the file is a Hugging Face WordLevel tokenizer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-tok-"));
  try {
    const t = buildWordLevelTokenizer(corpus).withChatTemplate("{{ messages }}");
    await t.save(dir);
    const j = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    assert.equal(j.model.type, "WordLevel");
    assert.equal(j.decoder.type, "Fuse");
    assert.equal(j.pre_tokenizer.type, "Split");
    const cfg = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
    assert.equal(cfg.eos_token, "<eos>");
    const r = await Tokenizer.load(dir);
    assert.equal(r.vocabSize, t.vocabSize);
    assert.equal(r.chatTemplate, "{{ messages }}");
    for (const s of corpus) assert.deepEqual(r.encode(s), t.encode(s));
    writeFileSync(join(dir, "tokenizer.json"), "{ nope");
    await assert.rejects(Tokenizer.load(dir), TokenizerError);
    await assert.rejects(Tokenizer.load(join(dir, "missing")), /not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("encode is fast enough for thousands of samples", () => {
  const t = buildWordLevelTokenizer(corpus);
  // The best of three rounds: a round slowed by a busy machine (another process, a GC pause) does not count, while
  // a real slowdown (e.g. rebuilding the tokenizer per call) shows in every round. Measured: ~0.03 ms per sample.
  let perSample = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    let n = 0;
    for (let i = 0; i < 2000; i++) n += t.encode(corpus[i % corpus.length]).length;
    perSample = Math.min(perSample, (performance.now() - start) / 2000);
    assert.ok(n > 0);
  }
  assert.ok(perSample < 1, `encode took ${perSample.toFixed(3)} ms per sample`);
});
