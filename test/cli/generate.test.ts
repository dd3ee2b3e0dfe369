/**
 * `mst generate` on a tiny Qwen2-layout checkpoint written by the test: greedy output is deterministic, the same with
 * a zero adapter, the chat template is applied, and misuse fails with one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { saveLora } from "../../src/engine/checkpoint.js";
import { loadModelDir } from "../../src/engine/hf/model-dir.js";
import { writeTinyHf } from "../engine/hf/tiny-hf.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

function mst(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, MST_DEBUG: "" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("mst generate: streams a greedy reply, with and without an adapter; one-line errors", async () => {
  const root = mkdtempSync(join(tmpdir(), "mst-gen-"));
  try {
    const dir = join(root, "model");
    await writeTinyHf(dir, "qwen2", 4, { shards: 1 });
    // a ChatML template, as Qwen2's tokenizer_config.json carries
    writeFileSync(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({
        eos_token: "<eos>",
        chat_template:
          "{%- for m in messages %}{{- '<|' + m.role + '|>' + m.content + '<|end|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|assistant|>' }}{%- endif %}",
      }),
    );
    const a = mst("generate", "--model", dir, "--prompt", "the cat", "--max-tokens", "6", "--temperature", "0");
    assert.equal(a.code, 0, a.err);
    assert.match(a.err, /qwen2 .* loaded in .* prompt \d+ tokens/);
    assert.match(a.err, /\d+ tokens in .* tokens\/s/);
    assert.ok(a.out.trim().length > 0, "no text");
    const b = mst(
      "generate",
      "--model",
      dir,
      "--prompt",
      "the cat",
      "--max-tokens",
      "6",
      "--temperature",
      "0",
      "--storage",
      "f32",
    );
    assert.equal(b.out, a.out);
    // a freshly attached adapter (B = 0) leaves the reply unchanged
    const { model } = await loadModelDir(dir);
    model.attachLora({ rank: 2, alpha: 4 }, 1);
    await saveLora(join(root, "adapter"), model, { baseModel: dir });
    const msgs = join(root, "messages.json");
    writeFileSync(msgs, JSON.stringify([{ role: "user", content: "the cat" }]));
    const c = mst(
      "generate",
      "--model",
      dir,
      "--adapter",
      join(root, "adapter"),
      "--messages",
      msgs,
      "--max-tokens",
      "6",
      "--temperature",
      "0",
    );
    assert.equal(c.code, 0, c.err);
    assert.equal(c.out, a.out);
    const e = mst("generate", "--model", join(root, "nope"), "--prompt", "x");
    assert.equal(e.code, 2, "a model directory that is not there is bad input");
    assert.match(e.err, /^mst: .*nope: not found/);
    assert.equal(e.err.trim().split("\n").length, 1);
    const f = mst("generate", "--model", dir);
    assert.match(f.err, /exactly one of --prompt and --messages/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
