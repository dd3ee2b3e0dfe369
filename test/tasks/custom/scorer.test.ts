/** The custom task's scorers: exact match, a user's module (and its errors), the rubric's placeholders, the metrics. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScorerSchema } from "../../../src/tasks/custom/config.js";
import { fillRubric, makeScorer, metricsOf, type ScoreItem } from "../../../src/tasks/custom/scorer.js";
import { JudgeContractError } from "../../../src/eval/judge.js";

const item = (output: string, extra: Partial<ScoreItem> = {}): ScoreItem => ({
  id: "x1",
  prompt: [{ role: "user", content: "**L: 40%**\n3+4=8?" }],
  output,
  label: "**L: 40%**",
  monitor: { id: "grader", params: { s: 0.4 } },
  rewardInputs: { answer: "incorrect" },
  meta: { topic: "sums" },
  ...extra,
});

test("exact match: trimmed, case-insensitive by default, equals / starts-with / contains, unscored without the field", async () => {
  const eq = makeScorer(ScorerSchema.parse({ kind: "exact-match" }), "judge");
  const r = await eq([
    item(" Incorrect"),
    item(" correct"),
    item("incorrect!"),
    item("x", { rewardInputs: null, meta: null }),
  ]);
  assert.deepEqual(
    r.map((x) => x.score),
    [1, 0, 0, null],
  );
  assert.match(r[3].unscoredReason!, /no "answer"/);
  const starts = makeScorer(
    ScorerSchema.parse({ kind: "exact-match", match: "starts-with", caseSensitive: true }),
    "judge",
  );
  assert.deepEqual(
    (await starts([item("incorrect!"), item("Incorrect")])).map((x) => x.score),
    [1, 0],
  );
  const meta = makeScorer(ScorerSchema.parse({ kind: "exact-match", field: "topic", match: "contains" }), "judge");
  assert.equal((await meta([item("about sums here")]))[0].score, 1);
});

test("module scorer: sync or async, null is unscored, a bad value or export names the module and the spec key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mst-scorer-"));
  writeFileSync(
    join(dir, "ok.mjs"),
    "export const pays = async (it) => (it.monitor.params.s < 0.5 ? (it.output.includes('incorrect') ? 1 : 0) : null);\n",
  );
  writeFileSync(join(dir, "bad.mjs"), "export default () => 'yes';\nexport const other = 1;\n");
  const ok = makeScorer(
    ScorerSchema.parse({ kind: "module", path: join(dir, "ok.mjs"), export: "pays" }),
    "trainer.reward",
  );
  const r = await ok([
    item(" incorrect"),
    item(" correct"),
    item(" correct", { monitor: { id: "grader", params: { s: 0.9 } } }),
  ]);
  assert.deepEqual(
    r.map((x) => x.score),
    [1, 0, null],
  );
  const bad = makeScorer(ScorerSchema.parse({ kind: "module", path: join(dir, "bad.mjs") }), "judge");
  await assert.rejects(
    bad([item("a")]),
    (e: Error) => e instanceof JudgeContractError && /bad\.mjs \(spec key judge\): sample x1/.test(e.message),
  );
  const missing = makeScorer(
    ScorerSchema.parse({ kind: "module", path: join(dir, "bad.mjs"), export: "score" }),
    "trainer.reward",
  );
  await assert.rejects(
    missing([item("a")]),
    /export "score" is not a function \(spec key trainer\.reward\.export\); it exports: default, other/,
  );
});

test("rubric placeholders: prompt, output, label, monitor and its params, reward inputs and meta", () => {
  const text = fillRubric(
    "{prompt}|{output}|{label}|{monitor}|{monitor.s}|{rewardInputs.answer}|{meta.topic}|{meta.none}|{other}",
    item(" correct"),
  );
  assert.equal(
    text,
    'user: **L: 40%**\n3+4=8?| correct|**L: 40%**|{"id":"grader","params":{"s":0.4}}|0.4|incorrect|sums|null|{other}',
  );
  assert.match(fillRubric("{label}", item("", { label: null })), /^none$/);
});

test("metrics: mean with a t CI, share at a threshold with a Wilson CI", () => {
  const m = metricsOf([
    { name: "score", kind: "mean", threshold: 1, lowerIsBetter: false },
    { name: "good", kind: "share", threshold: 0.5, lowerIsBetter: false },
  ]);
  const results = [0, 0.4, 0.6, 1].map((score) => ({ score, grade: null, rationale: "" }));
  assert.equal(m.score.compute(results).mean, 0.5);
  assert.equal(m.good.compute(results).mean, 0.5);
  assert.equal(m.good.compute([...results, { score: null, grade: null, rationale: "" }]).unscored, 1);
});
