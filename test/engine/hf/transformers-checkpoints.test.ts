/**
 * Checkpoints written by the real transformers (save_pretrained: safetensors, sharded by max_shard_size, F32 and BF16)
 * load in mst and compute transformers' logits within 1e-4: Llama with GQA and llama3 rope scaling (tied and untied,
 * positions past original_max_position_embeddings) and Qwen2 with q/k/v biases. `mst generate --temperature 0` equals
 * transformers' greedy `generate` token for token.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../../src/data/rng.js";
import { loadModelDir } from "../../../src/engine/hf/model-dir.js";
import { skipUnlessPython } from "../../python-env.js";
import { LLAMA3_ROPE, TINY, writeTinyTokenizer } from "./tiny-hf.js";
import { flat, hfRef, maxAbsDiff } from "./transformers-ref.js";

const CLI = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));
const skip = skipUnlessPython("torch", "transformers");

const B = 2;
/** Past the llama3 cases' original_max_position_embeddings (16): the scaled frequencies act on every position. */
const T = 40;

interface Case {
  name: string;
  arch: "llama" | "qwen2";
  tied: boolean;
  dtype: "float32" | "bfloat16";
  shard: string | null;
  rope?: typeof LLAMA3_ROPE;
  generate?: boolean;
}

const CASES: Case[] = [
  {
    name: "llama3-untied-f32-sharded",
    arch: "llama",
    tied: false,
    dtype: "float32",
    shard: "20KB",
    rope: LLAMA3_ROPE,
    generate: true,
  },
  { name: "llama3-tied-bf16", arch: "llama", tied: true, dtype: "bfloat16", shard: null, rope: LLAMA3_ROPE },
  { name: "llama-untied-bf16-sharded", arch: "llama", tied: false, dtype: "bfloat16", shard: "10KB" },
  { name: "qwen2-tied-bf16-sharded", arch: "qwen2", tied: true, dtype: "bfloat16", shard: "12KB", generate: true },
  { name: "qwen2-tied-f32", arch: "qwen2", tied: true, dtype: "float32", shard: null },
];

/** Measured differences, printed once so the numbers can be reported. */
const measured: string[] = [];

test(
  "transformers' save_pretrained checkpoints: mst's logits equal transformers' (1e-4) and greedy generate matches",
  { skip },
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), "mst-tf-ckpt-"));
    try {
      const tokDir = join(root, "tok");
      mkdirSync(tokDir);
      writeTinyTokenizer(tokDir);
      const copy = ["tokenizer.json", "tokenizer_config.json"].map((f) => join(tokDir, f));
      const rng = new Rng(7);
      const tokens = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(TINY.vocab)));
      const prompt = "the cat sat on the mat";
      // the ids mst gives the prompt (with --raw: the tokenizer's special tokens added) are what transformers continues
      const ops: Record<string, unknown>[] = [];
      for (const [i, c] of CASES.entries()) {
        const dir = join(root, c.name);
        ops.push({
          op: "build",
          out: dir,
          arch: c.arch,
          tied: c.tied,
          dtype: c.dtype,
          shard: c.shard,
          rope: c.rope ?? null,
          seed: 21 + i,
          vocab: TINY.vocab,
          max_pos: 128,
          // the word-level tokenizer's ids: <pad> 0, <bos> 1, <eos> 2
          bos: 1,
          eos: 2,
          pad: 0,
          copy,
        });
        ops.push({ op: "logits", model: dir, tokens });
      }
      const { loadDirTokenizer } = await import("../../../src/engine/hf/model-dir.js");
      const tok = (await loadDirTokenizer(tokDir)).tokenizer;
      const promptIds = tok.encode(prompt, { addSpecialTokens: true });
      for (const c of CASES)
        if (c.generate) ops.push({ op: "generate", model: join(root, c.name), ids: promptIds, max_new: 24 });
      const res = hfRef(ops);
      let g = 2 * CASES.length;
      for (const [i, c] of CASES.entries()) {
        const dir = join(root, c.name);
        const files = (res[2 * i] as { files: string[] }).files;
        if (c.shard !== null)
          assert.ok(files.includes("model.safetensors.index.json"), `${c.name}: not sharded: ${files}`);
        else assert.ok(files.includes("model.safetensors"), `${c.name}: ${files}`);
        const md = await loadModelDir(dir);
        assert.equal(md.model.config.tieEmbeddings, c.tied, c.name);
        assert.equal(md.model.config.nKvHeads, 2, c.name);
        if (c.rope) assert.equal(md.model.config.ropeScaling?.type, "llama3", c.name);
        const mine = md.model.forward(Int32Array.from(tokens.flat()), B, T).logits;
        const want = flat((res[2 * i + 1] as { logits: unknown }).logits);
        const d = maxAbsDiff(mine.subarray(0, want.length), want);
        measured.push(
          `${c.name}: max |logit diff| ${d.toExponential(2)} (max |logit| ${Math.max(...want.map(Math.abs)).toFixed(2)})`,
        );
        assert.ok(d < 1e-4, `${c.name}: max |mst - transformers| = ${d}`);
        if (!c.generate) continue;
        const ref = res[g++] as { ids: number[]; min_margin: number };
        // a near-tie at some step would make agreement (or disagreement) a matter of rounding
        assert.ok(ref.min_margin > 1e-3, `${c.name}: transformers' greedy path has a near-tie (${ref.min_margin})`);
        const r = spawnSync(
          process.execPath,
          [
            CLI,
            "generate",
            "--model",
            dir,
            "--raw",
            "--prompt",
            prompt,
            "--temperature",
            "0",
            "--max-tokens",
            "24",
            "--storage",
            "f32",
          ],
          { encoding: "utf8" },
        );
        assert.equal(r.status, 0, r.stderr);
        const stop = new Set(md.stopIds);
        const expectIds = ref.ids.filter((id) => !stop.has(id));
        assert.equal(r.stdout, tok.decode(expectIds, { skipSpecialTokens: true }) + "\n", `${c.name}: generate`);
        // the same number of tokens, the stop token included when transformers stopped on one
        assert.match(r.stderr, new RegExp(`mst: ${ref.ids.length} tokens in `), `${c.name}: ${r.stderr}`);
        measured.push(
          `${c.name}: greedy generate ${ref.ids.length} tokens equal (min top-2 margin ${ref.min_margin.toFixed(3)})`,
        );
      }
      assert.ok(readdirSync(root).length > CASES.length);
      for (const m of measured) t.diagnostic(m);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
