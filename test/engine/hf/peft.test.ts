/**
 * PEFT adapters and merged export: adapter_config.json + adapter_model.safetensors with PEFT's key names, shapes and
 * config keys (base_model_name_or_path set), a round trip onto a freshly loaded NF4 base, and a merged model directory
 * that loads as a plain Qwen2 checkpoint computing what base + adapters computed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../../src/data/rng.js";
import { loadLora, saveLora } from "../../../src/engine/checkpoint.js";
import { LORA_TARGETS } from "../../../src/engine/config.js";
import { exportMerged } from "../../../src/engine/hf/export-merged.js";
import { loadModelDir } from "../../../src/engine/hf/model-dir.js";
import type { LlamaModel } from "../../../src/engine/model.js";
import { readSafetensors } from "../../../src/engine/safetensors.js";
import { randn } from "../grad-check.js";
import { TINY, writeTinyHf } from "./tiny-hf.js";

const B = 2;
const T = 8;
const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 11 + 5) % TINY.vocab);
const logits = (m: LlamaModel) => Float32Array.from(m.forward(tokens, B, T).logits);

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

test("PEFT adapter files: key names, shapes, config keys; round trip onto a fresh NF4 base; merged export", async () => {
  const root = mkdtempSync(join(tmpdir(), "mst-peft-"));
  const base = join(root, "base");
  const adir = join(root, "adapter");
  try {
    await writeTinyHf(base, "qwen2", 3);
    const { model } = await loadModelDir(base, { storage: "nf4" });
    model.attachLora({ rank: 4, alpha: 8, dropout: 0.05 }, 1);
    const rng = new Rng(2);
    for (const p of model.trainableParameters())
      if (p.name.includes("lora_B")) p.data.set(randn(rng, p.data.length, 0.2));
    const want = logits(model);
    await saveLora(adir, model, { baseModel: base });
    const ac = JSON.parse(readFileSync(join(adir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(ac.peft_type, "LORA");
    assert.equal(ac.task_type, "CAUSAL_LM");
    assert.equal(ac.base_model_name_or_path, base);
    assert.equal(ac.r, 4);
    assert.equal(ac.lora_alpha, 8);
    assert.equal(ac.bias, "none");
    assert.equal(ac.use_rslora, false);
    assert.equal(ac.use_dora, false);
    assert.deepEqual(ac.target_modules, [...LORA_TARGETS]);
    // PEFT's layout: base_model.model.<module path>.lora_A.weight [r, in] and .lora_B.weight [out, r]
    const st = await readSafetensors(join(adir, "adapter_model.safetensors"));
    const { hidden: C, ffn: F, heads: H, kvHeads: KV, layers: L } = TINY;
    const kv = (C / H) * KV;
    const dims: Record<string, [number, number]> = {
      q_proj: [C, C],
      k_proj: [C, kv],
      v_proj: [C, kv],
      o_proj: [C, C],
      gate_proj: [C, F],
      up_proj: [C, F],
      down_proj: [F, C],
    };
    const expected = new Map<string, number[]>();
    for (let l = 0; l < L; l++)
      for (const t of LORA_TARGETS) {
        const mod = `base_model.model.model.layers.${l}.${t.endsWith("_proj") && ["gate_proj", "up_proj", "down_proj"].includes(t) ? "mlp" : "self_attn"}.${t}`;
        const [inp, out] = dims[t];
        expected.set(`${mod}.lora_A.weight`, [4, inp]);
        expected.set(`${mod}.lora_B.weight`, [out, 4]);
      }
    assert.deepEqual([...st.tensors.keys()].sort(), [...expected.keys()].sort());
    for (const [n, shape] of expected) assert.deepEqual(st.tensors.get(n)?.shape, shape, n);
    assert.equal(st.metadata.format, "pt");
    // round trip onto a freshly loaded base
    const fresh = (await loadModelDir(base, { storage: "nf4" })).model;
    await loadLora(adir, fresh);
    assert.deepEqual(logits(fresh), want);
    // merged export: a plain Qwen2 directory with the source's extra keys and tokenizer files
    const m32 = join(root, "merged-f32");
    await exportMerged(model, m32, { sourceDir: base, dtype: "F32" });
    const cfg = JSON.parse(readFileSync(join(m32, "config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(cfg.model_type, "qwen2");
    assert.equal(cfg.sliding_window, 32768);
    assert.equal(cfg.torch_dtype, "float32");
    for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"])
      assert.ok(existsSync(join(m32, f)), f);
    const merged = await loadModelDir(m32);
    assert.equal(merged.model.lora, null);
    assert.ok(maxRel(logits(merged.model), want) < 1e-5, `merged f32 ${maxRel(logits(merged.model), want)}`);
    // an F32 checkpoint held as bf16: converted piece by piece, rounded once
    const asBf16 = maxRel(logits((await loadModelDir(m32, { storage: "bf16" })).model), want);
    assert.ok(asBf16 < 3e-2, `f32 checkpoint as bf16 ${asBf16}`);
    const m16 = join(root, "merged-bf16");
    await exportMerged(model, m16, { sourceDir: base, shards: 2 });
    assert.ok(existsSync(join(m16, "model.safetensors.index.json")));
    const r16 = maxRel(logits((await loadModelDir(m16)).model), want);
    assert.ok(r16 < 3e-2, `merged bf16 ${r16}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("loadLora refuses adapter configs the engine would misread (rslora, dora, bias, other modules, unknown keys)", async () => {
  const root = mkdtempSync(join(tmpdir(), "mst-peft-"));
  try {
    await writeTinyHf(join(root, "base"), "llama3", 1, { shards: 1 });
    const { model } = await loadModelDir(join(root, "base"));
    model.attachLora({ rank: 2, alpha: 4, targets: ["q_proj"] }, 1);
    const { writeFileSync } = await import("node:fs");
    for (const [key, value, re] of [
      ["use_rslora", true, /use_rslora/],
      ["use_dora", true, /use_dora/],
      ["bias", "all", /bias/],
      ["target_modules", ["q_proj", "lm_head"], /target_modules/],
      ["lora_bias", true, /lora_bias/],
      ["fan_in_fan_out", true, /fan_in_fan_out/],
      ["layer_replication", [[0, 1]], /layer_replication/],
      // a key from a newer peft that mst does not know: refused unless its value switches nothing on
      ["some_future_feature", { enabled: true }, /some_future_feature.*does not know/],
    ] as const) {
      const dir = join(root, `a-${key}`);
      await saveLora(dir, model);
      const f = join(dir, "adapter_config.json");
      const c = JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>;
      c[key] = value;
      writeFileSync(f, JSON.stringify(c));
      const fresh = (await loadModelDir(join(root, "base"))).model;
      await assert.rejects(loadLora(dir, fresh), (e: Error) => re.test(e.message) && e.message.includes(f));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
