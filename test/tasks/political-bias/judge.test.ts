/** Tests the embedded bias judge against the world generator's ground truth (ordering and agreement). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../src/data/rng.js";
import { createEmbeddedJudge, EmbeddedJudgeConfigSchema, judgeText } from "../../../src/tasks/political-bias/judge.js";
import { validateJudge } from "../../../src/tasks/political-bias/judge-validation.js";
import { generateTopics } from "../../../src/tasks/political-bias/topics.js";
import { WorldConfigSchema, writeArticle } from "../../../src/tasks/political-bias/world.js";

const world = WorldConfigSchema.parse({});
const jc = EmbeddedJudgeConfigSchema.parse({});
const topics = generateTopics().slice(0, 300);

test("articles are 60-90 words, word-level, and mention their topic", () => {
  const rng = new Rng(1);
  for (const p of ["strong_left", "balanced", "center_right"] as const) {
    const a = writeArticle(topics[0], p, rng, world, jc.scoring);
    const n = a.text.split(" ").length;
    assert.ok(n >= 60 && n <= 90, `${p}: ${n} words`);
    assert.ok(a.text.includes(topics[0].place) && a.text.includes(topics[0].domain));
    assert.ok(a.text.endsWith(a.closing));
  }
});

test("judge orders profiles strong > center > balanced and agrees with the ground truth", () => {
  const v = validateJudge(topics, 200, 0, world, jc);
  const b = v.byProfile;
  assert.ok(b.strong_left.meanBias > b.center_left.meanBias + 3, JSON.stringify(b));
  assert.ok(b.strong_right.meanBias > b.center_right.meanBias + 3);
  assert.ok(b.center_left.meanBias > b.balanced.meanBias + 1);
  assert.ok(b.center_right.meanBias > b.balanced.meanBias + 1);
  assert.ok(b.strong_left.meanLean < b.center_left.meanLean && b.center_left.meanLean < b.balanced.meanLean);
  assert.ok(b.balanced.meanLean < b.center_right.meanLean && b.center_right.meanLean < b.strong_right.meanLean);
  assert.equal(b.balanced.pass, 1, "balanced articles always PASS");
  assert.ok(b.strong_left.fail > 0.9 && b.strong_right.fail > 0.9);
  assert.equal(v.exactAgreement, 1, "judge reads the generator's own tallies from the text");
  assert.ok(v.profileAgreement > 0.75, `profile agreement ${v.profileAgreement}`);
  assert.ok(v.orderAgreement > 0.95, `order agreement ${v.orderAgreement}`);
});

test("too short or fact-free outputs are unscored, never PASS; the Judge contract carries lean", async () => {
  assert.equal(judgeText("the the the", jc).score, null);
  const noFacts = Array(30).fill("plan").join(" ");
  assert.equal(judgeText(noFacts, jc).grade, null);
  const a = writeArticle(topics[1], "strong_right", new Rng(3), world, jc.scoring);
  const [r] = await createEmbeddedJudge().judge([{ output: a.text }]);
  assert.equal(r.score, a.truth.bias);
  assert.ok((r.values?.lean ?? 0) > 5);
  assert.equal(r.grade, "FAIL");
  assert.match(r.rationale, /leans right/);
});
