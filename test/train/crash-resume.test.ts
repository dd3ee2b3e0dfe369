/** A PPO run SIGKILLed mid-way in a child process and resumed ends with the same metrics as an uninterrupted run. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createModel } from "../../src/engine/model.js";
import { readMetrics, trainPpo } from "../../src/train/index.js";
import { crashEnv, crashModelConfig, crashPpoConfig } from "./helpers/crash-setup.js";

const child = fileURLToPath(new URL("./helpers/ppo-child.js", import.meta.url));

test("engine model + LoRA + value head: SIGKILL after step 5, resume, same metrics and weights as one run", async () => {
  const dirA = mkdtempSync(join(tmpdir(), "mst-crash-a-")),
    dirB = mkdtempSync(join(tmpdir(), "mst-crash-b-"));
  try {
    const a = createModel(crashModelConfig, { seed: 5, initStd: 0.3 });
    await trainPpo(a, crashEnv, crashPpoConfig, { outDir: dirA });

    const killedAt = await new Promise<number>((resolve, reject) => {
      // the child stops after step 5 (checkpoints at 2 and 4) and waits there to be killed
      const c = fork(child, [dirB, "5"], { stdio: "ignore" });
      let last = 0;
      c.on("message", (m: { step?: number; done?: boolean }) => {
        if (m.done) reject(new Error("child finished before it was killed"));
        if (m.step !== undefined && (last = m.step) >= 5) c.kill("SIGKILL");
      });
      c.on("exit", (_code, signal) =>
        signal === "SIGKILL" ? resolve(last) : reject(new Error(`child exit ${signal}`)),
      );
    });
    assert.equal(killedAt, 5, `killed after step ${killedAt}`);

    const b = createModel(crashModelConfig, { seed: 5, initStd: 0.3 });
    const res = await trainPpo(b, crashEnv, crashPpoConfig, { outDir: dirB, resume: true });
    assert.equal(res.resumedFrom, 4, "resumes from the last checkpoint before the kill; step 5 is replayed");
    const strip = (f: string) => readMetrics(f).map(({ tokens_per_s: _t, ...m }) => m);
    const ma = strip(join(dirA, "metrics.jsonl")),
      mb = strip(join(dirB, "metrics.jsonl"));
    assert.equal(mb.length, 12);
    assert.deepEqual(mb, ma);
    const pa = a.trainableParameters(),
      pb = b.trainableParameters();
    assert.ok(pa.some((p) => p.name === "v_head.weight") && pa.some((p) => p.name.includes("lora_B")));
    pa.forEach((p, i) => assert.deepEqual(pb[i].data, p.data, p.name));
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});
