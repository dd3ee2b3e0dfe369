/**
 * Models with NaN or infinite weights are refused where the weights are read, naming the tensor and the file: a Hugging
 * Face directory held as f32, bf16 or NF4 (BF16 and F32 shards), an mst checkpoint, and through the commands: `mst
 * generate` and `mst serve` exit 2 with that message (not empty answers or NUL characters), and a run whose base is
 * such a checkpoint fails its base job with it (not "diverged") and exits 2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exitCodeOf } from "../../../src/cli/errors.js";
import { loadCheckpoint, saveCheckpoint } from "../../../src/engine/checkpoint.js";
import { loadModelDir } from "../../../src/engine/hf/model-dir.js";
import { SafetensorsShards } from "../../../src/engine/hf/safetensors-shards.js";
import { createModel } from "../../../src/engine/model.js";
import { NoProgress } from "../../../src/run/progress.js";
import { startRun } from "../../../src/run/runner.js";
import { parseSpec, resolveSpec } from "../../../src/run/spec.js";
import { writeTinyHf } from "./tiny-hf.js";

const CLI = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));

/** Overwrite element `index` of tensor `name` in its file with `value` (in the stored dtype). Returns the file. */
async function poke(dir: string, name: string, index: number, value: number): Promise<string> {
  const shards = await SafetensorsShards.open(dir);
  const t = shards.info(name, dir);
  await shards.close();
  const buf = Buffer.alloc(t.dtype === "F32" ? 4 : 2);
  if (t.dtype === "F32") buf.writeFloatLE(value, 0);
  else {
    const f = Buffer.alloc(4);
    f.writeFloatLE(value, 0);
    buf.writeUInt16LE(f.readUInt32LE(0) >>> 16, 0);
  }
  const fd = openSync(t.file, "r+");
  writeSync(fd, buf, 0, buf.length, t.offset + index * buf.length);
  closeSync(fd);
  return t.file;
}

const named = (tensor: string, file: string) => (e: Error) =>
  e.name === "NonFiniteWeightsError" && e.message.includes(`"${tensor}"`) && e.message.includes(file);

test("a Hugging Face directory with NaN or infinity is refused for every storage, naming tensor and shard", async () => {
  const root = mkdtempSync(join(tmpdir(), "mst-nonfinite-"));
  try {
    const dir = join(root, "m");
    await writeTinyHf(dir, "llama3", 1, { shards: 3 });
    const tensor = "model.layers.1.mlp.down_proj.weight";
    const file = await poke(dir, tensor, 17, NaN);
    for (const storage of ["f32", "bf16", "nf4"] as const)
      await assert.rejects(loadModelDir(dir, { storage }), named(tensor, file), storage);
    // an infinity in a small vector (a norm) too
    await poke(dir, tensor, 17, 0.5);
    const norm = "model.layers.0.input_layernorm.weight";
    const f2 = await poke(dir, norm, 3, -Infinity);
    await assert.rejects(loadModelDir(dir), (e: Error) => named(norm, f2)(e) && /-Infinity/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("an mst checkpoint (F32) with an infinity is refused; mst generate and mst serve exit 2 naming the tensor", async () => {
  const root = mkdtempSync(join(tmpdir(), "mst-nonfinite-"));
  try {
    const dir = join(root, "m");
    await writeTinyHf(dir, "qwen2", 2, { shards: 1 });
    const { model, tokenizer } = await loadModelDir(dir);
    const f32 = join(root, "f32");
    await saveCheckpoint(f32, model, { tokenizer });
    const tensor = "model.embed_tokens.weight";
    const file = await poke(f32, tensor, 40, Infinity);
    await assert.rejects(loadCheckpoint(f32), named(tensor, file));
    const g = spawnSync(
      process.execPath,
      [CLI, "generate", "--model", f32, "--raw", "--prompt", "the cat", "--max-tokens", "4", "--temperature", "0"],
      { encoding: "utf8" },
    );
    assert.equal(g.status, 2, g.stderr);
    assert.match(g.stderr, new RegExp(`^mst: .*"${tensor}" holds \\+Infinity`));
    assert.equal(g.stdout, "", "nothing printed");
    const s = spawnSync(process.execPath, [CLI, "serve", "--model", f32, "--port", "0", "--quiet"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(s.status, 2, s.stderr);
    assert.match(s.stderr, new RegExp(`"${tensor}" holds \\+Infinity`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a run whose base checkpoint holds NaN fails its base job naming the tensor (not 'diverged'), exit 2", async () => {
  const root = mkdtempSync(join(tmpdir(), "mst-nonfinite-"));
  try {
    const ckpt = join(root, "ckpt");
    const m = createModel({ vocabSize: 48, dModel: 16, nLayers: 1, nHeads: 2, dFf: 32, maxSeq: 128 }, { seed: 3 });
    await saveCheckpoint(ckpt, m);
    await writeTinyHf(join(root, "tok"), "qwen2", 1, { shards: 1 });
    const { tokenizer } = await loadModelDir(join(root, "tok"));
    await tokenizer.save(ckpt);
    const tensor = "model.layers.0.self_attn.q_proj.weight";
    const file = await poke(ckpt, tensor, 5, NaN);
    const text =
      "task: sycophancy\npreset: micro\nseeds: [0]\nbaseSeeds: [0]\n" +
      `overrides:\n  base:\n    checkpoint: ${JSON.stringify(ckpt)}\n`;
    const { resolved } = await resolveSpec({ spec: parseSpec(text, "ckpt.yaml") });
    await assert.rejects(startRun(resolved, join(root, "run"), { progress: new NoProgress(), jobs: 1 }), (e: Error) => {
      assert.equal(e.name, "JobFailedError");
      assert.ok(e.message.includes(`"${tensor}" holds NaN`) && e.message.includes(file), e.message);
      assert.doesNotMatch(e.message, /diverged/);
      assert.equal(exitCodeOf(e), 2, "bad input");
      return true;
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
