/** The interop commands as a user runs them: `mst export`, and `mst serve-reward` on loopback logging each request's latency. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainJobs } from "../../src/interop/export-data.js";
import { loadExperiment } from "../../src/interop/load-experiment.js";
import { encodeRewardLabel } from "../../src/interop/reward-label.js";

const MAIN = "dist/src/cli/main.js";
const dir = mkdtempSync(join(tmpdir(), "mst-cli-interop-"));
const spec = join(dir, "syc.yaml");
writeFileSync(spec, "task: sycophancy\npreset: micro\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n");

test("mst export writes the target's files and says where the recipe is", () => {
  const r = spawnSync(
    process.execPath,
    [MAIN, "export", "--spec", spec, "--target", "openrlhf", "--out", join(dir, "out")],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /exported 1 train jobs \(64 rows\) and 5 evaluation sets/);
  assert.ok(existsSync(join(dir, "out", "jobs", "train-mst-b0-s0", "train.jsonl")));
  const bad = spawnSync(
    process.execPath,
    [MAIN, "export", "--spec", spec, "--target", "deepspeed", "--out", join(dir, "o2")],
    { encoding: "utf8" },
  );
  assert.equal(bad.status, 2, "an unknown target is bad input");
  assert.match(bad.stderr, /expected one of trl, openrlhf, verl, openai/);
});

test("mst serve-reward listens on 127.0.0.1, logs per-request latency, stops cleanly; --api-key-env needs the variable", async () => {
  const child = spawn(process.execPath, [MAIN, "serve-reward", "--spec", spec, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve) =>
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/get_reward)/.exec(out);
      if (m) resolve(m[1]);
    }),
  );
  const job = trainJobs(await loadExperiment(spec))[0];
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify({ query: ["p incorrect"], prompts: ["p "], labels: [encodeRewardLabel(job.labels[0])] }),
  });
  assert.equal(res.status, 200);
  const code = await new Promise<number | null>((resolve) => {
    child.on("exit", resolve);
    setTimeout(() => child.kill("SIGTERM"), 200);
  });
  assert.equal(code, 0);
  assert.match(err, /POST \/get_reward 200 items=1 \d+\.\d+ms/);
  assert.match(out, /stopped; answered \{"200":1\}/);

  const env = { ...process.env };
  delete env.MST_TEST_NO_SUCH_KEY;
  const r = spawnSync(
    process.execPath,
    [MAIN, "serve-reward", "--spec", spec, "--port", "0", "--api-key-env", "MST_TEST_NO_SUCH_KEY"],
    { encoding: "utf8", env },
  );
  assert.equal(r.status, 2, "a missing key variable is bad input");
  assert.match(r.stderr, /MST_TEST_NO_SUCH_KEY: the environment variable is not set/);
});
