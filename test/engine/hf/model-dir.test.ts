/**
 * The Hugging Face model-directory reader on tiny random checkpoints written in the HF layout (3 BF16 shards, GQA):
 * logits and a LoRA step's gradients match an independent PyTorch float64 reference that reads the same files
 * (test/engine/torch_llama_ref.py) for a Llama-3 config with rope_scaling and a Qwen2 config with biases and tied
 * embeddings; bf16 and NF4 storage compute the same function as float32 on the same (dequantised) weights; each
 * unsupported or broken input fails with a message naming the file and key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../../src/data/rng.js";
import { loadCheckpoint } from "../../../src/engine/checkpoint.js";
import { loadModelDir, readModelDirConfig } from "../../../src/engine/hf/model-dir.js";
import { LlamaModel } from "../../../src/engine/model.js";
import { crossEntropyForward } from "../../../src/engine/ops/cross-entropy.js";
import { dequantAll } from "../../../src/engine/quant/packed.js";
import { EngineTextModel } from "../../../src/engine/text-model.js";
import { skipUnlessPython, testPython } from "../../python-env.js";
import { randn } from "../grad-check.js";
import { TINY, writeTinyHf, type TinyKind } from "./tiny-hf.js";

const PY = testPython;
const torchSkip = skipUnlessPython("torch");
const hasTorch = torchSkip === false;
const script = fileURLToPath(new URL("../../../../test/engine/torch_llama_ref.py", import.meta.url));

const B = 2;
const T = 12;
const N = B * T;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "mst-hf-"));
}

function batch(seed: number) {
  const rng = new Rng(seed);
  return {
    tokens: Int32Array.from({ length: N }, () => rng.int(TINY.vocab)),
    targets: Int32Array.from({ length: N }, () => rng.int(TINY.vocab)),
    mask: Float32Array.from({ length: N }, (_, i) => (i % T >= 3 ? 1 : 0)),
  };
}

/** max |a - b| and max |b|. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { d: number; s: number } {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return { d, s };
}

function logitsOf(m: LlamaModel, tokens: Int32Array): Float32Array {
  return Float32Array.from(m.forward(tokens, B, T).logits);
}

for (const kind of ["llama3", "qwen2"] as TinyKind[])
  test(
    `${kind}: logits and a LoRA step's gradients match the PyTorch float64 reference reading the same files`,
    { skip: hasTorch ? false : `no torch for ${PY}` },
    async () => {
      const dir = tmp();
      try {
        await writeTinyHf(dir, kind, kind === "llama3" ? 1 : 2);
        const { model: m } = await loadModelDir(dir);
        m.attachLora({ rank: 2, alpha: 4, dropout: 0, targets: ["q_proj", "v_proj", "down_proj"] }, 3);
        const rng = new Rng(4);
        for (const p of m.parameters())
          if (p.name.endsWith("lora_B.weight")) p.data.set(randn(rng, p.data.length, 0.3));
        const { tokens, targets, mask } = batch(5);
        const r = m.forward(tokens, B, T, { train: true });
        const logits = Float32Array.from(r.logits);
        const dLogits = new Float32Array(N * TINY.vocab);
        const ce = crossEntropyForward(dLogits, r.logits, targets, mask, N, TINY.vocab);
        m.zeroGrad();
        m.backward(dLogits);
        const adapters = m.parameters().filter((p) => p.name.includes(".lora_"));
        const input = {
          dir,
          B,
          T,
          loraScaling: 4 / 2,
          params: Object.fromEntries(adapters.map((p) => [p.name, Array.from(p.data)])),
          shapes: Object.fromEntries(adapters.map((p) => [p.name, p.shape])),
          tokens: Array.from(tokens),
          targets: Array.from(targets),
          mask: Array.from(mask, (x) => x > 0),
        };
        const py = spawnSync(PY, [script], { input: JSON.stringify(input), encoding: "utf8", maxBuffer: 1 << 26 });
        assert.equal(py.status, 0, py.stderr);
        const ref = JSON.parse(py.stdout) as { logits: number[]; ce: number; grads: Record<string, number[]> };
        const l = diff(logits, ref.logits);
        assert.ok(l.s > 1, `logits of scale ${l.s} (too flat to test)`);
        assert.ok(l.d <= 1e-4 * l.s, `logits: max diff ${l.d.toExponential(2)} at scale ${l.s.toFixed(2)}`);
        assert.ok(Math.abs(ce - ref.ce) <= 1e-4 * ref.ce, `ce ${ce} vs ${ref.ce}`);
        for (const p of adapters) {
          const g = ref.grads[p.name];
          assert.ok(g !== undefined, `${p.name}: no reference gradient`);
          const { d, s } = diff(p.grad, g);
          assert.ok(s > 0, `${p.name}: zero reference gradient`);
          assert.ok(d <= 1e-4 * s, `${p.name}: max diff ${d.toExponential(2)} at scale ${s.toExponential(2)}`);
        }
        // the features matter at this size: without rope scaling (llama3) or biases (qwen2) the logits move
        const plain = new LlamaModel({ ...m.config, ropeScaling: undefined });
        for (const p of m.parameters())
          if (!p.name.includes(".lora_"))
            plain
              .getParam(p.name)
              .data.set(kind === "qwen2" && p.name.endsWith(".bias") ? new Float32Array(p.data.length) : p.data);
        const off = diff(logitsOf(plain, tokens), ref.logits);
        assert.ok(off.d > 1e-2 * off.s, `${kind}: the test cannot tell (diff ${off.d} without the feature)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

test("config, tokenizer, generation_config: the HF keys read as the families write them", async () => {
  const dir = tmp();
  try {
    await writeTinyHf(dir, "llama3");
    const md = await loadModelDir(dir);
    assert.equal(md.modelType, "llama");
    assert.deepEqual(md.model.config.ropeScaling, {
      type: "llama3",
      factor: 4,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 64,
    });
    assert.equal(md.model.config.maxSeq, 256);
    assert.deepEqual(md.generation, { eosIds: [2, 5, 7], doSample: true, temperature: 0.7, topP: 0.8, topK: 20 });
    assert.deepEqual(md.stopIds, [2, 5, 7]);
    assert.equal(md.tokenizer.encode(" the cat").length, 2);
    await writeTinyHf(dir, "qwen2");
    const q = await loadModelDir(dir, { maxSeq: 64 });
    assert.equal(q.modelType, "qwen2");
    assert.equal(q.model.config.qkvBias, true);
    assert.equal(q.model.config.tieEmbeddings, true);
    assert.equal(q.model.config.ropeTheta, 1e6);
    assert.equal(q.model.config.maxSeq, 64);
    // the old entry point applies rope_scaling too (it used to ignore it)
    await writeTinyHf(dir, "llama3");
    const { model: old } = await loadCheckpoint(dir);
    const { tokens } = batch(1);
    assert.deepEqual(logitsOf(old, tokens), logitsOf(md.model, tokens));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const storage of ["bf16", "nf4"] as const)
  test(`${storage} storage computes what float32 computes on the same weights (logits, LoRA gradients)`, async () => {
    const dir = tmp();
    try {
      await writeTinyHf(dir, "qwen2", 7, { shards: 1 });
      const f32 = (await loadModelDir(dir)).model;
      const packed = (await loadModelDir(dir, { storage })).model;
      // float32 model holding exactly the packed values
      for (const p of packed.parameters()) if (p.packed) f32.getParam(p.name).data.set(dequantAll(p.packed));
      const lora = {
        rank: 2,
        alpha: 4,
        dropout: 0,
        targets: ["q_proj", "k_proj", "o_proj", "up_proj", "down_proj"] as const,
      };
      f32.attachLora({ ...lora, targets: [...lora.targets] }, 9);
      packed.attachLora({ ...lora, targets: [...lora.targets] }, 9);
      const rng = new Rng(1);
      for (const p of f32.parameters())
        if (p.name.endsWith("lora_B.weight")) {
          const v = randn(rng, p.data.length, 0.3);
          p.data.set(v);
          packed.getParam(p.name).data.set(v);
        }
      const { tokens, targets, mask } = batch(2);
      const grads = (m: LlamaModel) => {
        const r = m.forward(tokens, B, T, { train: true });
        const lg = Float32Array.from(r.logits);
        const d = new Float32Array(N * TINY.vocab);
        crossEntropyForward(d, r.logits, targets, mask, N, TINY.vocab);
        m.zeroGrad();
        m.backward(d);
        return { lg, g: m.trainableParameters().map((p) => Float32Array.from(p.grad)) };
      };
      const a = grads(f32);
      const b = grads(packed);
      const l = diff(b.lg, a.lg);
      assert.ok(l.d <= 1e-5 * l.s, `logits ${l.d}`);
      a.g.forEach((g, i) => {
        const { d, s } = diff(b.g[i], g);
        assert.ok(d <= 1e-5 * s + 1e-9, `grad ${i}: ${d} at ${s}`);
      });
      // bf16 holds the checkpoint's bf16 values exactly: a fresh bf16 model computes what a fresh float32 one does
      if (storage === "bf16") {
        const x = logitsOf((await loadModelDir(dir, { storage })).model, tokens);
        const y = logitsOf((await loadModelDir(dir)).model, tokens);
        assert.ok(diff(x, y).d <= 1e-6 * diff(x, y).s);
      }
      // sampling runs on packed weights (KV-cache path, logits of the last positions only)
      const cached = packed.forwardCached(packed.createKvCache(B, T), tokens, B, T, new Int32Array(B), {
        logitRows: Int32Array.from([T - 1, 2 * T - 1]),
      }).logits;
      const full = packed.forward(tokens, B, T).logits;
      const last = Float32Array.from([
        ...full.subarray((T - 1) * TINY.vocab, T * TINY.vocab),
        ...full.subarray((2 * T - 1) * TINY.vocab),
      ]);
      assert.ok(diff(cached, last).d <= 1e-5 * diff(cached, last).s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test("errors name the file and key: model_type, rope type, missing shard, tensor shape, tokenizer", async () => {
  const dir = tmp();
  const cfgFile = join(dir, "config.json");
  const edit = (f: (c: Record<string, unknown>) => void) => {
    const c = JSON.parse(readFileSync(cfgFile, "utf8")) as Record<string, unknown>;
    f(c);
    writeFileSync(cfgFile, JSON.stringify(c));
  };
  try {
    await writeTinyHf(dir, "llama3");
    edit((c) => (c.model_type = "mistral"));
    await assert.rejects(
      loadModelDir(dir),
      /config\.json: key "model_type": "mistral" is not supported \(llama, qwen2\)/,
    );
    await writeTinyHf(dir, "llama3");
    edit((c) => ((c.rope_scaling as Record<string, unknown>).rope_type = "yarn"));
    await assert.rejects(
      loadModelDir(dir),
      /config\.json: key "rope_scaling\.rope_type": rope type "yarn" is not supported/,
    );
    await assert.rejects(loadCheckpoint(dir), /rope type "yarn" is not supported/);
    await writeTinyHf(dir, "llama3");
    edit((c) => (c.intermediate_size = 48));
    await assert.rejects(
      loadModelDir(dir),
      /model-0000\d-of-00003\.safetensors: tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[40,32\], config\.json implies \[48,32\]/,
    );
    await writeTinyHf(dir, "qwen2");
    edit((c) => (c.use_sliding_window = true));
    await assert.rejects(loadModelDir(dir), /config\.json: key "use_sliding_window": true is not supported/);
    await writeTinyHf(dir, "llama3");
    edit((c) => delete c.hidden_size);
    await assert.rejects(loadModelDir(dir), /config\.json: key "hidden_size"/);
    await writeTinyHf(dir, "llama3");
    unlinkSync(join(dir, "model-00002-of-00003.safetensors"));
    await assert.rejects(
      loadModelDir(dir),
      /model-00002-of-00003\.safetensors: shard not found \(listed in .*model\.safetensors\.index\.json key "weight_map"/,
    );
    await writeTinyHf(dir, "llama3");
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify({ model: { type: "Bogus" } }));
    await assert.rejects(loadModelDir(dir), /tokenizer\.json: @huggingface\/tokenizers rejected it/);
    unlinkSync(join(dir, "tokenizer.json"));
    await assert.rejects(loadModelDir(dir), /tokenizer\.json: not found/);
    await assert.rejects(loadModelDir(join(dir, "nope")), /nope: not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("EngineTextModel.fromModelDir: the directory's chat template, stop ids and temperature", async () => {
  const dir = tmp();
  try {
    await writeTinyHf(dir, "llama3");
    writeFileSync(join(dir, "chat_template.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}");
    const md = await loadModelDir(dir);
    const tm = EngineTextModel.fromModelDir(md, { maxTokens: 4 });
    assert.deepEqual(tm.encodePrompt([{ role: "user", content: " the cat" }]), md.tokenizer.encode(" the cat"));
    const [c] = await tm.generate([[{ role: "user", content: " the cat" }]], { seed: 1 });
    const a = { tokens: c.tokens ?? [] };
    assert.ok(a.tokens.length >= 1 && a.tokens.length <= 4);
    // stops at any of generation_config's eos ids
    for (const id of a.tokens.slice(0, -1)) assert.ok(![2, 5, 7].includes(id));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the released configs of Qwen2.5-0.5B-Instruct and Llama-3.2-1B-Instruct map to the engine's config", async () => {
  const dir = tmp();
  try {
    // the keys and values of the published config.json files (nothing downloaded: written here)
    const qwen = {
      architectures: ["Qwen2ForCausalLM"],
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: 151645,
      hidden_act: "silu",
      hidden_size: 896,
      initializer_range: 0.02,
      intermediate_size: 4864,
      max_position_embeddings: 32768,
      max_window_layers: 21,
      model_type: "qwen2",
      num_attention_heads: 14,
      num_hidden_layers: 24,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      sliding_window: 32768,
      tie_word_embeddings: true,
      torch_dtype: "bfloat16",
      transformers_version: "4.43.1",
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(qwen));
    const q = (await readModelDirConfig(dir)).config;
    assert.deepEqual(q, {
      modelType: "qwen2",
      vocabSize: 151936,
      dModel: 896,
      dFf: 4864,
      nLayers: 24,
      nHeads: 14,
      nKvHeads: 2,
      maxSeq: 4096,
      ropeTheta: 1e6,
      rmsNormEps: 1e-6,
      tieEmbeddings: true,
      qkvBias: true,
    });
    const llama = {
      architectures: ["LlamaForCausalLM"],
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
      head_dim: 64,
      hidden_act: "silu",
      hidden_size: 2048,
      initializer_range: 0.02,
      intermediate_size: 8192,
      max_position_embeddings: 131072,
      mlp_bias: false,
      model_type: "llama",
      num_attention_heads: 32,
      num_hidden_layers: 16,
      num_key_value_heads: 8,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: {
        factor: 32.0,
        high_freq_factor: 4.0,
        low_freq_factor: 1.0,
        original_max_position_embeddings: 8192,
        rope_type: "llama3",
      },
      rope_theta: 500000.0,
      tie_word_embeddings: true,
      torch_dtype: "bfloat16",
      transformers_version: "4.45.0.dev0",
      use_cache: true,
      vocab_size: 128256,
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(llama));
    const l = (await readModelDirConfig(dir, { maxSeq: 2048 })).config;
    assert.equal(l.modelType, "llama");
    assert.equal(l.nKvHeads, 8);
    assert.equal(l.maxSeq, 2048);
    assert.equal(l.qkvBias, false);
    assert.deepEqual(l.ropeScaling, {
      type: "llama3",
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    // the same model as transformers >= 5 writes it: rope_theta and the scaling inside rope_parameters
    const { rope_theta: theta, rope_scaling: scaling, ...rest } = llama;
    const v5 = { ...rest, dtype: "bfloat16", rope_parameters: { ...scaling, rope_theta: theta } };
    writeFileSync(join(dir, "config.json"), JSON.stringify(v5));
    const l5 = (await readModelDirConfig(dir, { maxSeq: 2048 })).config;
    assert.equal(l5.ropeTheta, 500000);
    assert.deepEqual(l5.ropeScaling, l.ropeScaling);
    // per-layer-type parameters (another architecture's) are refused naming the key
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...rest, rope_parameters: { full_attention: { rope_type: "default", rope_theta: 1e6 } } }),
    );
    await assert.rejects(readModelDirConfig(dir), /key "rope_parameters": per-layer-type RoPE parameters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
