/** The kit's shared pieces: the ARM_RULES-driven plan, the serving order, the clipped run estimate. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { planExperiment, trainedArmOf } from "../../src/experiment/plan.js";
import { batchIndices } from "../../src/experiment/train-job.js";
import { estimate } from "../../src/experiment/summary.js";

test("plan: prompt-only reuses the baseline's model, every eval depends on its trained model, bases are shared", () => {
  assert.equal(trainedArmOf("prompt-only"), "baseline");
  assert.equal(trainedArmOf("shuffled"), "shuffled");
  const jobs = planExperiment(
    ["baseline", "mst", "prompt-only"],
    [
      { name: "main", base: "main" },
      { name: "unseen", base: "main" },
    ],
    { arms: [], seeds: [0, 1], baseSeeds: [0] },
    { base: 1, train: 1, eval: 1 },
  );
  const ids = jobs.map((j) => j.id);
  assert.equal(ids.filter((i) => i.startsWith("base-")).length, 1, "two conditions with one base key share it");
  assert.ok(!ids.some((i) => i.startsWith("train-prompt-only")), "prompt-only trains nothing");
  const po = jobs.find((j) => j.id === "eval-unseen-prompt-only-b0-s1")!;
  assert.deepEqual(po.deps, ["base-b0", "train-unseen-baseline-b0-s1"]);
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
  for (const j of jobs) for (const d of j.deps) assert.ok(ids.indexOf(d) < ids.indexOf(j.id), `${j.id} after ${d}`);
});

test("serving order: pure function of (step, seed), epochs are permutations, independent of the arm", () => {
  const n = 50;
  const seen: number[] = [];
  for (let step = 0; step < 5; step++) seen.push(...batchIndices(n, step, 10, 3));
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
  assert.deepEqual(batchIndices(n, 7, 16, 3), batchIndices(n, 7, 16, 3));
  assert.notDeepEqual(batchIndices(n, 0, 16, 3), batchIndices(n, 0, 16, 4));
  assert.equal(
    batchIndices(n, 3, 16, 3).length,
    16,
    "a batch straddling an epoch boundary takes the next epoch's permutation",
  );
});

test("estimate: shares get a t interval intersected with [0, 1]; paired differences with [-1, 1]", () => {
  // two bases: mean 0.735, the raw t interval (df 1) is about [0.29, 1.18]
  const e = estimate([0.7, 0.77], [0, 1]);
  assert.equal(e.n, 2);
  assert.ok(Math.abs(e.mean - 0.735) < 1e-12);
  assert.ok(e.lo > 0 && e.lo < 0.735, `lo ${e.lo}`);
  assert.equal(e.hi, 1);
  const d = estimate([-0.95, -0.85], [-1, 1]); // raw t interval about [-1.54, -0.26]
  assert.equal(d.lo, -1);
  assert.ok(d.hi > -0.3 && d.hi < -0.2, `hi ${d.hi}`);
  const t = estimate([0.5, 0.51, 0.49, null], [0, 1]);
  assert.equal(t.n, 3, "nulls (unscored runs) are left out");
  assert.ok(t.lo > 0.45 && t.hi < 0.55);
});
