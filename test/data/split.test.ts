/** Deterministic splits by key: stable per key and seed, close to the asked fractions, groups kept together. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SplitSpecSchema, splitByKey, splitOf } from "../../src/data/index.js";

const spec = SplitSpecSchema.parse({ seed: 3, fractions: { train: 0.8, val: 0.1, test: 0.1 } });
const keys = Array.from({ length: 5000 }, (_, i) => `topic-${i}`);

test("fractions are met within sampling error, and a key's split depends only on (seed, key)", () => {
  const parts = splitByKey(keys, (k) => k, spec);
  assert.deepEqual(Object.keys(parts), ["train", "val", "test"]);
  const n = keys.length;
  for (const [name, p] of Object.entries({ train: 0.8, val: 0.1, test: 0.1 })) {
    const sd = Math.sqrt((n * p * (1 - p)) / 1);
    assert.ok(Math.abs(parts[name].length - n * p) < 4 * sd, `${name}: ${parts[name].length}`);
  }
  // Adding keys never moves existing ones; a reversed order gives the same assignment.
  const more = splitByKey([...keys, "extra-1", "extra-2"].reverse(), (k) => k, spec);
  for (const name of Object.keys(parts))
    assert.deepEqual(more[name].filter((k) => !k.startsWith("extra")).reverse(), parts[name]);
  for (const k of keys.slice(0, 50)) assert.equal(splitOf(k, spec), splitOf(k, spec));
});

test("items sharing a key share a split; order is kept; another seed gives another split", () => {
  const items = keys.slice(0, 300).flatMap((k) => [0, 1, 2].map((j) => ({ key: k, j })));
  const parts = splitByKey(items, (it) => it.key, spec);
  for (const [name, rows] of Object.entries(parts)) {
    for (const r of rows) assert.equal(splitOf(r.key, spec), name);
    const order = rows.map((r) => items.indexOf(r));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  }
  const other = SplitSpecSchema.parse({ ...spec, seed: 4 });
  const moved = keys.filter((k) => splitOf(k, spec) !== splitOf(k, other)).length;
  assert.ok(moved > keys.length * 0.2, `only ${moved} keys moved`);
});

test("zero fractions get nothing; the schema rejects empty and all-zero fractions", () => {
  const s = SplitSpecSchema.parse({ fractions: { train: 1, test: 0 } });
  assert.equal(splitByKey(keys, (k) => k, s).test.length, 0);
  assert.ok(!SplitSpecSchema.safeParse({ fractions: {} }).success);
  assert.ok(!SplitSpecSchema.safeParse({ fractions: { a: 0 } }).success);
  assert.ok(!SplitSpecSchema.safeParse({ fractions: { a: -1, b: 2 } }).success);
});
