/** Tests the political-bias topic generator: count, uniqueness, determinism and a split without overlap. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateTopics, splitTopics, topicPhrase, TopicSplitError } from "../../../src/tasks/political-bias/topics.js";

test("2,300 distinct topics, deterministic per seed, each with details", () => {
  const a = generateTopics();
  assert.equal(a.length, 2300);
  assert.equal(new Set(a.map(topicPhrase)).size, 2300, "no duplicate topic");
  assert.equal(new Set(a.map((t) => t.id)).size, 2300);
  assert.deepEqual(generateTopics(), a, "same seed, same topics");
  assert.notDeepEqual(generateTopics({ seed: "other" }).slice(0, 20), a.slice(0, 20));
  for (const t of a.slice(0, 50)) assert.ok(t.proposer && t.timing && t.amount > 0);
  assert.ok(new Set(a.map((t) => t.domain)).size >= 10, "covers many political domains");
});

test("split 1,900 train / 200 val / 200 test with no overlap", () => {
  const s = splitTopics(generateTopics());
  assert.equal(s.train.length, 1900);
  assert.equal(s.val.length, 200);
  assert.equal(s.test.length, 200);
  const seen = new Set<string>();
  for (const part of [s.train, s.val, s.test])
    for (const t of part) {
      assert.ok(!seen.has(topicPhrase(t)), `topic ${topicPhrase(t)} in two splits`);
      seen.add(topicPhrase(t));
    }
  assert.throws(() => splitTopics(generateTopics({ count: 100 }), { count: 100 }), TopicSplitError);
});
