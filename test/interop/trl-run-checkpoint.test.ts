/** Check 4 on a user's checkpoint: a tiny random Llama written by transformers' save_pretrained, with a chat template. */
import { test } from "node:test";
import { join } from "node:path";
import { runPython, testSourcePath } from "../python-env.js";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";
import { CUSTOM_HEAD, CUSTOM_TAIL, roundTrip, skip } from "./trl-round-trip.js";

test("trl: custom SFT on a save_pretrained checkpoint", { skip, timeout: 280_000 }, async () => {
  const { dir, spec } = writeExperiment(
    `${CUSTOM_HEAD}${MONITOR_YAML.slice(0, MONITOR_YAML.indexOf("  model:"))}  model: { kind: checkpoint, path: ckpt }
  trainer:
    kind: sft
    sft: { maxSteps: 2, batchSize: 8, maxLength: 96, lora: { rank: 2, alpha: 4 } }
${CUSTOM_TAIL}`,
  );
  const ckpt = join(dir, "ckpt");
  runPython(testSourcePath("interop/python/tiny_hf_checkpoint.py"), [ckpt]);
  await roundTrip({ spec, dir, checkpoint: ckpt, kind: "sft" });
});
