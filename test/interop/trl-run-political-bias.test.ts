/** Check 4, political-bias (SFT): export, TRL's 2 steps on the saved embedded base, import, resume. */
import { test } from "node:test";
import { specFile, tempDir } from "./helpers.js";
import { roundTrip, skip } from "./trl-round-trip.js";

test("trl: political-bias on the quick preset's saved embedded base", { skip, timeout: 280_000 }, async () => {
  const dir = tempDir("trl-pb");
  const spec = specFile(
    dir,
    "pb.yaml",
    "task: political-bias\npreset: quick\narms: [mst]\nseeds: [0]\nbaseSeeds: [0]\noverrides:\n" +
      "  topics: { count: 60, train: 40, test: 8 }\n" +
      "  generation: { testTopics: 2, sweepTopics: 1, maxNewTokens: 40 }\n  gate: { topics: 2 }\n",
  );
  await roundTrip({ spec, dir, checkpoint: null, kind: "sft" });
});
