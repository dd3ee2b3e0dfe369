/**
 * `mst serve --model DIR --adapter NAME=DIR` as a process: the base and each adapter under their names (greedy output
 * equal to the engine's over the same weights), --api-key-env, and SIGTERM finishing a running stream before exit 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { loadCheckpoint, saveCheckpoint, saveLora } from "../../src/engine/checkpoint.js";
import { Rng } from "../../src/data/rng.js";
import { sample } from "../../src/engine/sampler.js";
import { peakedModel, tok } from "../serve/fixture.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

test("mst serve --model with an adapter: names, greedy parity per model, the key, SIGTERM drains", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "mst-serve-cli-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const modelDir = join(root, "model");
  const adapterDir = join(root, "adapter");
  await saveCheckpoint(modelDir, peakedModel(5), { tokenizer: tok });
  const tuned = (await loadCheckpoint(modelDir)).model;
  tuned.attachLora({ rank: 4, alpha: 8, targets: ["q_proj", "v_proj", "down_proj"] }, 1);
  // LoRA B starts at zero (the adapter would be the base): give it weights so the adapter changes the output
  const rng = new Rng("serve-cli-lora");
  for (const p of tuned.trainableParameters())
    for (let i = 0; i < p.data.length; i++) p.data[i] = (rng.float() - 0.5) * 0.8;
  await saveLora(adapterDir, tuned);
  const base = (await loadCheckpoint(modelDir)).model;

  const proc = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      "--model",
      modelDir,
      "--adapter",
      `tuned=${adapterDir}`,
      "--api-key-env",
      "MST_TEST_KEY",
      "--port",
      "0",
      "--quiet",
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, MST_TEST_KEY: "k-123" },
    },
  );
  let stderr = "";
  proc.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  t.after(() => {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on("exit", () => reject(new Error(`mst serve exited: ${stderr}`)));
  });

  await assert.rejects(
    new OpenAI({ baseURL: url, apiKey: "wrong", maxRetries: 0 }).models.list(),
    (e: unknown) => e instanceof OpenAI.AuthenticationError,
  );
  const client = new OpenAI({ baseURL: url, apiKey: "k-123", maxRetries: 0 });
  assert.deepEqual(
    (await client.models.list()).data.map((m) => m.id),
    ["base", "tuned"],
  );
  const prompt = [tok.bosId, ...tok.encode("is 3 + 4 = 7 ?")];
  const texts: string[] = [];
  for (const [name, model] of [
    ["base", base],
    ["tuned", tuned],
  ] as const) {
    const r = await client.completions.create({
      model: name,
      prompt,
      max_tokens: 10,
      temperature: 0,
      ...{ ignore_eos: true },
    });
    const ref = sample(model, [prompt], { maxNewTokens: 10, temperature: 0 });
    assert.equal(r.choices[0].text, tok.decode(ref.tokens[0]), name);
    texts.push(r.choices[0].text);
  }
  assert.notEqual(texts[0], texts[1], "the adapter changes the output");

  // SIGTERM while a stream runs: the stream still ends with its finish_reason, then the process exits 0
  const stream = await client.completions.create({
    model: "tuned",
    prompt,
    max_tokens: 40,
    temperature: 0,
    stream: true,
    ...{ ignore_eos: true },
  });
  const it = stream[Symbol.asyncIterator]();
  assert.ok(!(await it.next()).done);
  proc.kill("SIGTERM");
  let finish: string | null = null;
  for (let r = await it.next(); !r.done; r = await it.next()) finish = r.value.choices[0]?.finish_reason ?? finish;
  assert.equal(finish, "length");
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /stopped/);
});
