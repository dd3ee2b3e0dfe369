/** Check 4, custom RL with an exact-match scorer: rewards from `mst serve-reward` over HTTP (MST_REWARD_URL). */
import { test } from "node:test";
import { MONITOR_YAML, writeExperiment } from "../tasks/custom/fixture.js";
import { CUSTOM_HEAD, CUSTOM_TAIL, roundTrip, skip } from "./trl-round-trip.js";

test("trl: custom RL on its embedded base, rewarded by mst serve-reward", { skip, timeout: 280_000 }, async () => {
  const { dir, spec } = writeExperiment(
    `${CUSTOM_HEAD}${MONITOR_YAML}  trainer:
    kind: rl
    ppo: { steps: 2, batchSize: 16, miniBatchSize: 8, ppoEpochs: 1, maxNewTokens: 2, lora: { rank: 2, alpha: 4 } }
    reward: { kind: exact-match, field: answer }
${CUSTOM_TAIL}`,
  );
  await roundTrip({ spec, dir, checkpoint: null, kind: "rl", server: true });
});
