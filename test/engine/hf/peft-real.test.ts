/**
 * PEFT both ways, against the real peft and transformers, on bases built by save_pretrained (Llama with GQA and llama3
 * rope, untied; Qwen2 with biases, tied, BF16): an adapter peft made (all seven projections, one AdamW step) loads in
 * mst (engine, `mst generate --adapter`, the import path) with peft's logits within 1e-4; an adapter mst trained loads
 * with PeftModel.from_pretrained and AutoPeftModelForCausalLM (base_model_name_or_path written) with mst's logits;
 * mst's merged export equals merge_and_unload(). Then what mst must refuse, naming the key or tensor: PEFT features it
 * does not apply (made by the real peft), an unknown tensor, another base, shapes that do not fit.
 */
import { before, after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../../src/data/rng.js";
import { loadLora, saveLora } from "../../../src/engine/checkpoint.js";
import { LORA_TARGETS } from "../../../src/engine/config.js";
import { exportMerged } from "../../../src/engine/hf/export-merged.js";
import { loadDirTokenizer, loadModelDir } from "../../../src/engine/hf/model-dir.js";
import { SafetensorsShards } from "../../../src/engine/hf/safetensors-shards.js";
import type { LlamaModel } from "../../../src/engine/model.js";
import { readSafetensors, writeSafetensors } from "../../../src/engine/safetensors.js";
import { trainSft } from "../../../src/train/sft.js";
import { bringAdapter } from "../../../src/interop/adapter-io.js";
import { skipUnlessPython } from "../../python-env.js";
import { LLAMA3_ROPE, TINY, writeTinyTokenizer } from "./tiny-hf.js";
import { flat, hfRef, maxAbsDiff } from "./transformers-ref.js";

const CLI = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));
const skip = skipUnlessPython("torch", "transformers", "peft");

const B = 2;
const T = 24;
/** PEFT features mst does not apply, each made by the real peft: the key the refusal must name. */
const FEATURES: [string, Record<string, unknown>, RegExp][] = [
  ["lora-bias", { lora_bias: true }, /lora_bias/],
  ["dora", { use_dora: true }, /use_dora/],
  ["rslora", { use_rslora: true }, /use_rslora/],
  ["trainable-tokens", { trainable_token_indices: [3, 5] }, /trainable_token_indices/],
  ["modules-to-save", { modules_to_save: ["lm_head"] }, /modules_to_save/],
  ["rank-pattern", { rank_pattern: { q_proj: 2 } }, /rank_pattern/],
];

const BASES = ["llama", "qwen2"] as const;

let root = "";
let tokens: number[][] = [];
let ref: Record<string, Record<string, unknown>> = {};
const measured: string[] = [];
const dirOf = (name: string) => join(root, name);
const input = () => Int32Array.from(tokens.flat());
const logitsOf = (m: LlamaModel) => m.forward(input(), B, T).logits.slice(0, B * T * TINY.vocab);

before(async () => {
  if (skip !== false) return;
  root = mkdtempSync(join(tmpdir(), "mst-peft-real-"));
  mkdirSync(dirOf("tok"));
  writeTinyTokenizer(dirOf("tok"));
  const copy = ["tokenizer.json", "tokenizer_config.json"].map((f) => join(dirOf("tok"), f));
  const rng = new Rng(3);
  tokens = Array.from({ length: B }, () => Array.from({ length: T }, () => 3 + rng.int(TINY.vocab - 3)));
  const promptIds = (await loadDirTokenizer(dirOf("tok"))).tokenizer.encode("the cat sat on the mat", {
    addSpecialTokens: true,
  });
  const named: [string, Record<string, unknown>][] = [];
  for (const [i, b] of BASES.entries()) {
    const base = dirOf(`base-${b}`);
    named.push([
      `build-${b}`,
      {
        op: "build",
        out: base,
        arch: b,
        tied: b === "qwen2",
        dtype: b === "qwen2" ? "bfloat16" : "float32",
        shard: b === "qwen2" ? "12KB" : null,
        rope: b === "llama" ? LLAMA3_ROPE : null,
        seed: 40 + i,
        vocab: TINY.vocab,
        bos: 1,
        eos: 2,
        pad: 0,
        copy,
      },
    ]);
    named.push([
      `peft-${b}`,
      { op: "peft_make", model: base, out: dirOf(`peft-${b}`), r: 4, alpha: 8, seed: 5, tokens },
    ]);
    named.push([
      `merge-${b}`,
      { op: "peft_merge", model: base, adapter: dirOf(`peft-${b}`), out: dirOf(`peft-merged-${b}`), tokens },
    ]);
    named.push([
      `generate-${b}`,
      { op: "generate", model: base, adapter: dirOf(`peft-${b}`), ids: promptIds, max_new: 16 },
    ]);
  }
  // another base of the same shapes (another seed): an adapter for it must not load onto base-llama
  named.push([
    "build-other",
    {
      op: "build",
      out: dirOf("base-other"),
      arch: "llama",
      tied: false,
      dtype: "float32",
      shard: null,
      rope: LLAMA3_ROPE,
      seed: 99,
      vocab: TINY.vocab,
      copy,
    },
  ]);
  for (const [name, extra] of FEATURES)
    named.push([
      `feature-${name}`,
      {
        op: "peft_make",
        model: dirOf("base-llama"),
        out: dirOf(`feature-${name}`),
        r: 4,
        alpha: 8,
        seed: 6,
        tokens,
        extra,
      },
    ]);
  const res = hfRef(named.map(([, op]) => op));
  ref = Object.fromEntries(named.map(([n], i) => [n, res[i]]));
});

after(() => {
  if (root !== "") rmSync(root, { recursive: true, force: true });
});

for (const b of BASES)
  test(
    `${b}: an adapter made by peft loads in mst (engine, mst generate --adapter, import) with peft's logits; mst's merged export equals merge_and_unload()`,
    { skip },
    async (t) => {
      const base = dirOf(`base-${b}`);
      const adapter = dirOf(`peft-${b}`);
      const made = ref[`peft-${b}`] as { zero_b: string[]; logits: unknown };
      assert.deepEqual(made.zero_b, [], "peft's one step left some B at zero");
      const ac = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      assert.deepEqual([...(ac.target_modules as string[])].sort(), [...LORA_TARGETS].sort());
      const md = await loadModelDir(base);
      await loadLora(adapter, md.model, { baseDir: base });
      const mine = logitsOf(md.model);
      const want = flat(made.logits);
      const d = maxAbsDiff(mine, want);
      measured.push(`${b}: peft adapter in mst: max |logit diff| ${d.toExponential(2)}`);
      assert.ok(d < 1e-4, `${b}: peft adapter: max |mst - peft| = ${d}`);

      // mst generate --adapter, greedy, token for token with transformers + PeftModel
      const gen = ref[`generate-${b}`] as { ids: number[]; min_margin: number };
      assert.ok(gen.min_margin > 1e-3, `near-tie in peft's greedy path (${gen.min_margin})`);
      const r = spawnSync(
        process.execPath,
        [
          CLI,
          "generate",
          "--model",
          base,
          "--adapter",
          adapter,
          "--raw",
          "--prompt",
          "the cat sat on the mat",
          "--temperature",
          "0",
          "--max-tokens",
          "16",
          "--storage",
          "f32",
        ],
        { encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr);
      const stop = new Set(md.stopIds);
      assert.equal(
        r.stdout,
        md.tokenizer.decode(
          gen.ids.filter((id) => !stop.has(id)),
          { skipSpecialTokens: true },
        ) + "\n",
      );
      assert.match(r.stderr, new RegExp(`mst: ${gen.ids.length} tokens in `));

      // the import path: verified on the base, written with the base's path for AutoPeftModelForCausalLM
      const imported = dirOf(`imported-${b}`);
      assert.equal(await bringAdapter(adapter, imported, base), "verified");
      const ic = JSON.parse(readFileSync(join(imported, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      assert.equal(ic.base_model_name_or_path, resolve(base));
      const again = (await loadModelDir(base)).model;
      await loadLora(imported, again, { baseDir: base });
      assert.deepEqual(logitsOf(again), mine);

      // merged export against merge_and_unload(): every tensor, then the logits transformers computes from mst's export
      const merged = dirOf(`mst-merged-${b}`);
      await exportMerged(md.model, merged, { sourceDir: base, dtype: "F32" });
      // the source config (transformers 5) says "dtype": the export must say what it wrote, for dtype="auto" loads
      const mc = JSON.parse(readFileSync(join(merged, "config.json"), "utf8")) as Record<string, unknown>;
      assert.equal(mc.dtype, "float32");
      const [a, p] = [await SafetensorsShards.open(merged), await SafetensorsShards.open(dirOf(`peft-merged-${b}`))];
      let worst = 0;
      try {
        const names = [...p.tensors.keys()].filter((n) => !(b === "qwen2" && n === "lm_head.weight")).sort();
        assert.deepEqual([...a.tensors.keys()].sort(), names);
        for (const n of names) {
          const [x, y] = [a.tensors.get(n)!, p.tensors.get(n)!];
          assert.deepEqual(x.shape, y.shape, n);
          const size = x.shape.reduce((u, v) => u * v, 1);
          const [fx, fy] = [new Float32Array(size), new Float32Array(size)];
          await a.readF32(x, fx);
          await p.readF32(y, fy);
          worst = Math.max(worst, maxAbsDiff(fx, fy));
        }
      } finally {
        await a.close();
        await p.close();
      }
      measured.push(`${b}: mst merged export vs merge_and_unload(): max |weight diff| ${worst.toExponential(2)}`);
      assert.ok(worst < 1e-6, `${b}: merged weights differ by ${worst}`);
      for (const m of measured.splice(0)) t.diagnostic(m);
    },
  );

test(
  "an adapter mst trains loads with PeftModel.from_pretrained and AutoPeftModelForCausalLM with mst's logits; transformers reads mst's merged export",
  { skip },
  async (t) => {
    const results: string[] = [];
    const ops: Record<string, unknown>[] = [];
    const mine = new Map<string, Float32Array>();
    for (const b of BASES) {
      const base = dirOf(`base-${b}`);
      const md = await loadModelDir(base);
      const rng = new Rng(9);
      const data = Array.from({ length: 4 }, () => ({
        prompt: Array.from({ length: 6 }, () => 3 + rng.int(TINY.vocab - 3)),
        completion: Array.from({ length: 4 }, () => 3 + rng.int(TINY.vocab - 3)),
      }));
      // a real mst SFT run (two AdamW steps on all seven projections) with a learning rate that moves B visibly
      trainSft(
        md.model,
        data,
        { lr: 0.05, maxSteps: 2, batchSize: 2, lora: { rank: 4, alpha: 8, dropout: 0 }, seed: 1 },
        { onWarning: () => {} },
      );
      const adir = dirOf(`mst-adapter-${b}`);
      await saveLora(adir, md.model, { baseModel: resolve(base) });
      const st = await readSafetensors(join(adir, "adapter_model.safetensors"));
      for (const [n, x] of st.tensors)
        if (n.includes("lora_B"))
          assert.ok(
            x.data.some((v) => v !== 0),
            `${n} is zero`,
          );
      mine.set(b, logitsOf(md.model));
      ops.push(
        { op: "logits", model: base, adapter: adir, tokens },
        { op: "logits", adapter: adir, auto_peft: true, tokens },
      );
    }
    // the imported adapters too: mst import writes the base's path, which AutoPeftModelForCausalLM follows
    for (const b of BASES) ops.push({ op: "logits", adapter: dirOf(`imported-${b}`), auto_peft: true, tokens });
    // and mst's merged exports (written by the first tests) as transformers reads them
    for (const b of BASES) ops.push({ op: "logits", model: dirOf(`mst-merged-${b}`), tokens });
    const res = hfRef(ops).map((r) => flat(r.logits));
    for (const [i, b] of BASES.entries()) {
      const [viaPeft, viaAuto] = [res[2 * i], res[2 * i + 1]];
      const d1 = maxAbsDiff(mine.get(b)!, viaPeft);
      const d2 = maxAbsDiff(mine.get(b)!, viaAuto);
      results.push(
        `${b}: mst adapter in peft: max |logit diff| PeftModel ${d1.toExponential(2)}, AutoPeft ${d2.toExponential(2)}`,
      );
      assert.ok(d1 < 1e-4 && d2 < 1e-4, `${b}: ${d1}, ${d2}`);
      const di = maxAbsDiff(res[2 * BASES.length + i], flat((ref[`peft-${b}`] as { logits: unknown }).logits));
      results.push(`${b}: imported adapter via AutoPeftModelForCausalLM: max |logit diff| ${di.toExponential(2)}`);
      assert.ok(di < 1e-4, `${b}: imported ${di}`);
      const dm = maxAbsDiff(res[3 * BASES.length + i], flat((ref[`merge-${b}`] as { logits: unknown }).logits));
      results.push(
        `${b}: transformers on mst's merged export vs merge_and_unload(): max |logit diff| ${dm.toExponential(2)}`,
      );
      assert.ok(dm < 1e-4, `${b}: merged logits differ by ${dm}`);
    }
    for (const m of results) t.diagnostic(m);
  },
);

test(
  "PEFT features mst does not apply are refused naming the key (adapters made by the real peft)",
  { skip },
  async () => {
    const base = dirOf("base-llama");
    for (const [name, , key] of FEATURES) {
      const m = (await loadModelDir(base)).model;
      const dir = dirOf(`feature-${name}`);
      await assert.rejects(
        loadLora(dir, m, { baseDir: base }),
        (e: Error) => key.test(e.message) && e.message.includes(dir),
        name,
      );
      // the import path refuses it too (AdapterImportError naming the adapter)
      await assert.rejects(
        bringAdapter(dir, dirOf(`imported-feature-${name}`), base),
        (e: Error) => key.test(e.message),
        name,
      );
      // and without a base to verify against (copied as is): the eval would refuse it later, the import refuses it now
      await assert.rejects(
        bringAdapter(dir, dirOf(`copied-feature-${name}`), null),
        (e: Error) => key.test(e.message),
        name,
      );
    }
  },
);

test(
  "an unknown tensor, another base, shapes that do not fit and NaN weights are refused, naming them",
  { skip },
  async () => {
    const base = dirOf("base-llama");
    const good = dirOf("peft-llama");
    const fresh = async () => (await loadModelDir(base)).model;
    // an extra tensor (a LoRA bias the config does not announce)
    const extra = dirOf("extra-tensor");
    cpSync(good, extra, { recursive: true });
    const f = join(extra, "adapter_model.safetensors");
    const st = await readSafetensors(f);
    const bias = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias";
    await writeSafetensors(f, [...st.tensors, [bias, { shape: [32], data: new Float32Array(32).fill(0.1) }]]);
    await assert.rejects(
      loadLora(extra, await fresh(), { baseDir: base }),
      (e: Error) => e.message.includes(bias) && e.message.includes(f),
    );
    await assert.rejects(bringAdapter(extra, dirOf("copied-extra"), null), (e: Error) => e.message.includes(bias));
    // another base: the adapter names a local directory with other weights, or a hub id that is not this base
    const cfg = JSON.parse(readFileSync(join(good, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    for (const [name, declared, re] of [
      ["local-other", dirOf("base-other"), /holds other weights/],
      ["hub-other", "meta-llama/Llama-3.2-1B-Instruct", /Llama-3\.2-1B-Instruct/],
    ] as const) {
      const dir = dirOf(`adapter-${name}`);
      cpSync(good, dir, { recursive: true });
      writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, base_model_name_or_path: declared }));
      await assert.rejects(
        loadLora(dir, await fresh(), { baseDir: base }),
        (e: Error) => re.test(e.message) && e.message.includes("base_model_name_or_path") && e.message.includes(base),
        name,
      );
      const r = spawnSync(
        process.execPath,
        [CLI, "generate", "--model", base, "--adapter", dir, "--raw", "--prompt", "the cat", "--max-tokens", "2"],
        { encoding: "utf8" },
      );
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /base_model_name_or_path/);
    }
    // a copy of the base elsewhere holds the same weights: accepted; so is a path from another machine ending the same
    const copyDir = dirOf("base-llama-copy");
    cpSync(base, copyDir, { recursive: true });
    for (const [name, declared] of [
      ["copy", copyDir],
      ["elsewhere", "/cluster/scratch/u1/base-llama"],
    ] as const) {
      const dir = dirOf(`adapter-${name}`);
      cpSync(good, dir, { recursive: true });
      writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, base_model_name_or_path: declared }));
      await loadLora(dir, await fresh(), { baseDir: base });
    }
    // shapes that do not fit: an adapter for a wider model (hidden size 64) onto this one (hidden size 32)
    const wide = dirOf("adapter-wide");
    cpSync(good, wide, { recursive: true });
    const wf = join(wide, "adapter_model.safetensors");
    const ws = await readSafetensors(wf);
    const qa = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    ws.tensors.set(qa, { shape: [4, 64], data: new Float32Array(4 * 64).fill(0.01) });
    await writeSafetensors(wf, ws.tensors);
    await assert.rejects(
      loadLora(wide, await fresh(), { baseDir: base }),
      (e: Error) => e.message.includes("layers.0.self_attn.q_proj.lora_A.weight") && /shape \[4,64\]/.test(e.message),
    );
    // NaN and infinity in an adapter
    const nan = dirOf("adapter-nan");
    cpSync(good, nan, { recursive: true });
    const nf = join(nan, "adapter_model.safetensors");
    const ns = await readSafetensors(nf);
    const victim = [...ns.tensors.keys()].find((n) => n.includes("layers.1.mlp.up_proj.lora_B"))!;
    ns.tensors.get(victim)!.data[3] = Number.POSITIVE_INFINITY;
    await writeSafetensors(nf, ns.tensors);
    await assert.rejects(
      loadLora(nan, await fresh(), { baseDir: base }),
      (e: Error) =>
        e.name === "NonFiniteWeightsError" &&
        e.message.includes("layers.1.mlp.up_proj.lora_B") &&
        e.message.includes(nf),
    );
  },
);
