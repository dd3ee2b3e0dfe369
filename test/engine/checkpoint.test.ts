/** Checkpoints: save/load reproduces logits bit for bit; HF config keys; PEFT LoRA files; clear errors. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createModel, type LlamaModel } from "../../src/engine/model.js";
import { saveCheckpoint, loadCheckpoint, saveLora, loadLora, CheckpointError } from "../../src/engine/checkpoint.js";
import { readSafetensors } from "../../src/engine/safetensors.js";
import { buildWordLevelTokenizer } from "../../src/engine/tokenizer-build.js";
import { DEFAULT_CHAT_TEMPLATE } from "../../src/engine/chat-template.js";

const cfg = { vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dFf: 24, maxSeq: 16 };
const B = 2,
  T = 6;
const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % 40);

function logits(m: LlamaModel): Float32Array {
  const r = m.forward(tokens, B, T);
  return Float32Array.from(r.logits);
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "mst-ckpt-"));
}

test("saveCheckpoint/loadCheckpoint: logits bit for bit, HF config.json, tokenizer and chat template", async () => {
  const dir = tmp();
  try {
    for (const tie of [true, false]) {
      const m = createModel({ ...cfg, tieEmbeddings: tie }, { seed: 5, valueHead: true });
      const tok = buildWordLevelTokenizer(["the cat sat on 12 mats."]);
      await saveCheckpoint(dir, m, { tokenizer: tok, chatTemplate: DEFAULT_CHAT_TEMPLATE });
      const hf = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      assert.deepEqual(hf.architectures, ["LlamaForCausalLM"]);
      assert.equal(hf.model_type, "llama");
      assert.equal(hf.hidden_size, 16);
      assert.equal(hf.num_key_value_heads, 2);
      assert.equal(hf.intermediate_size, 24);
      assert.equal(hf.tie_word_embeddings, tie);
      assert.equal(hf.torch_dtype, "float32");
      const st = await readSafetensors(join(dir, "model.safetensors"));
      assert.equal(st.metadata.format, "pt");
      assert.ok(st.tensors.has("model.layers.1.mlp.down_proj.weight"));
      assert.equal(st.tensors.has("lm_head.weight"), !tie);
      const { model, tokenizer } = await loadCheckpoint(dir);
      assert.ok(model.hasValueHead);
      assert.deepEqual(model.config, m.config);
      const a = m.forward(tokens, B, T);
      const la = Float32Array.from(a.logits),
        va = Float32Array.from(a.values!);
      const b = model.forward(tokens, B, T);
      assert.deepEqual(Float32Array.from(b.logits), la);
      assert.deepEqual(Float32Array.from(b.values!), va);
      assert.ok(tokenizer);
      assert.equal(tokenizer.chatTemplate, DEFAULT_CHAT_TEMPLATE);
      assert.deepEqual(tokenizer.encode("the cat sat"), tok.encode("the cat sat"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("saveLora/loadLora: PEFT files, adapters restore exactly onto a fresh copy of the base", async () => {
  const dir = tmp();
  try {
    const base = createModel(cfg, { seed: 9 });
    const tuned = createModel(cfg, { seed: 9 });
    tuned.attachLora({ rank: 4, alpha: 8, dropout: 0.1, targets: ["q_proj", "v_proj", "down_proj"] }, 3);
    // give B non-zero values so the adapters change the output
    for (const p of tuned.trainableParameters())
      for (let i = 0; i < p.data.length; i++) p.data[i] += 0.01 * ((i % 7) - 3);
    assert.notDeepEqual(logits(tuned), logits(base));
    await saveLora(dir, tuned);
    const ac = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
    assert.equal(ac.peft_type, "LORA");
    assert.equal(ac.r, 4);
    assert.equal(ac.lora_alpha, 8);
    assert.equal(ac.lora_dropout, 0.1);
    assert.deepEqual(ac.target_modules, ["q_proj", "v_proj", "down_proj"]);
    const st = await readSafetensors(join(dir, "adapter_model.safetensors"));
    assert.ok(st.tensors.has("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
    assert.equal(st.tensors.size, 2 * 3 * 2);
    await loadLora(dir, base);
    assert.deepEqual(logits(base), logits(tuned));
    assert.equal(base.trainableParameters().length, 12);
    // a model with different adapters refuses
    const other = createModel(cfg, { seed: 9 });
    other.attachLora({ rank: 2, targets: ["q_proj"] }, 0);
    await assert.rejects(loadLora(dir, other), /differ/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loading errors name the file and the field or tensor", async () => {
  const dir = tmp();
  try {
    await assert.rejects(loadCheckpoint(dir), /config\.json: not found/);
    const m = createModel(cfg, { seed: 1 });
    await saveCheckpoint(dir, m);
    const hf = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...hf, hidden_size: 32 }));
    await assert.rejects(loadCheckpoint(dir), /model\.safetensors: tensor "model\.embed_tokens\.weight" has shape/);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...hf, vocab_size: "many" }));
    await assert.rejects(
      loadCheckpoint(dir),
      (e: Error) => e instanceof CheckpointError && /"vocab_size"/.test(e.message),
    );
    await assert.rejects(saveLora(dir, m), /no LoRA/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
