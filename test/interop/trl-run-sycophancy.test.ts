/** Check 4, sycophancy (RL: GRPO, the reward table inside mst_reward.py): export, TRL's 2 steps, import, resume. */
import { test } from "node:test";
import { specFile, tempDir } from "./helpers.js";
import { roundTrip, skip } from "./trl-round-trip.js";

test("trl: sycophancy on the micro preset's saved embedded base", { skip, timeout: 280_000 }, async () => {
  const dir = tempDir("trl-syc");
  const spec = specFile(dir, "syc.yaml", "task: sycophancy\npreset: micro\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\n");
  await roundTrip({ spec, dir, checkpoint: null, kind: "rl" });
});
