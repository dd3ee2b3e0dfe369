/** Check 4, custom with `trainer: sft`: export, TRL's 2 steps on its saved embedded base, import, resume. */
import { test } from "node:test";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";
import { CUSTOM_HEAD, CUSTOM_TAIL, roundTrip, skip } from "./trl-round-trip.js";

test("trl: custom SFT on its embedded base", { skip, timeout: 280_000 }, async () => {
  const { dir, spec } = writeExperiment(
    `${CUSTOM_HEAD}${MONITOR_YAML}  trainer:
    kind: sft
    sft: { maxSteps: 2, batchSize: 8, maxLength: 24, lora: { rank: 2, alpha: 4 } }
${CUSTOM_TAIL}`,
  );
  await roundTrip({ spec, dir, checkpoint: null, kind: "sft" });
});
