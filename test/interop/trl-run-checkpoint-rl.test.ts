/** Check 4 on a user's checkpoint, RL: sycophancy (GRPO) from a tiny random Llama written by save_pretrained. */
import { test } from "node:test";
import { join } from "node:path";
import { runPython, testSourcePath } from "../python-env.js";
import { specFile, tempDir } from "./helpers.js";
import { roundTrip, skip } from "./trl-round-trip.js";

test("trl: sycophancy on a save_pretrained checkpoint", { skip, timeout: 280_000 }, async () => {
  const dir = tempDir("trl-syc-ckpt");
  const ckpt = join(dir, "ckpt");
  runPython(testSourcePath("interop/python/tiny_hf_checkpoint.py"), [ckpt]);
  const spec = specFile(
    dir,
    "syc.yaml",
    `task: sycophancy\npreset: micro\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\noverrides:\n  base: { checkpoint: ${JSON.stringify(ckpt)} }\n`,
  );
  await roundTrip({ spec, dir, checkpoint: ckpt, kind: "rl" });
});
