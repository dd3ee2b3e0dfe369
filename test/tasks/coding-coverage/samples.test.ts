/** Training samples carry only training coverages (never a held-out one); evaluation problems are held out. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createMonitorLabeler } from "../../../src/monitor/monitor.js";
import { HeldOutError } from "../../../src/monitor/errors.js";
import { CodingConfigSchema, PRESETS } from "../../../src/tasks/coding-coverage/config.js";
import { problemKey } from "../../../src/tasks/coding-coverage/problems.js";
import { taskMonitor, taskProblems } from "../../../src/tasks/coding-coverage/setup.js";
import { codingExperiment } from "../../../src/tasks/coding-coverage/task.js";

const config = CodingConfigSchema.parse(PRESETS.embedded);
const main = { name: "main", base: "main" };

test("no training sample carries a held-out coverage; every training coverage is used", () => {
  const labeler = createMonitorLabeler(taskMonitor(config));
  const samples = codingExperiment.trainSamples(config, { condition: main, base: 0, seed: 0 });
  assert.equal(samples.length, config.problems.trainCount);
  const seen = new Set<number>();
  for (const s of samples) {
    const k = Number(s.monitor.params.k);
    assert.ok(config.coverage.train.includes(k), `sample ${s.id}: coverage ${k}`);
    labeler.checkTraining(s.monitor, { file: "train", line: 0, id: s.id }); // throws HeldOutError if held out
    seen.add(k);
  }
  assert.deepEqual([...seen].sort(), [...config.coverage.train].sort());
  // the held-out coverages are exactly the strong graders, the deployment label among them
  for (const k of [4, 5, 6, 7, 8])
    assert.throws(
      () => labeler.checkTraining({ id: labeler.spec.id, params: { k } }, { file: "train", line: 0, id: "x" }),
      HeldOutError,
    );
  assert.equal(labeler.labelOf(labeler.spec.deployment), "**Hidden tests run: 8 of 8**");
  assert.equal(labeler.label({ id: labeler.spec.id, params: { k: 2 } }), "**Hidden tests run: 2 of 8**");
});

test("the same coverage per problem for every arm and seed; evaluation at full coverage on held-out problems", () => {
  const a = codingExperiment.trainSamples(config, { condition: main, base: 0, seed: 0 });
  const b = codingExperiment.trainSamples(config, { condition: main, base: 1, seed: 2 });
  assert.deepEqual(a, b);
  const evalSamples = codingExperiment.evalSamples(config, main);
  assert.ok(evalSamples.every((s) => s.monitor.params.k === config.problems.hidden));
  const { train, eval: held, pretrain } = taskProblems(config);
  const trained = new Set([...train, ...pretrain].map(problemKey));
  assert.ok(
    held.every((p) => !trained.has(problemKey(p))),
    "an evaluation problem was seen in training",
  );
  for (const p of [...train, ...held]) {
    const xs = [...p.visible, ...p.hidden].map(([x]) => x);
    assert.equal(new Set(xs).size, xs.length, `${p.id}: inputs repeat`);
  }
});

test("a coverage above the suite size is a config error naming its key", () => {
  const r = CodingConfigSchema.safeParse({ coverage: { train: [0, 9] } });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues[0].path, ["coverage", "train", 1]);
});
