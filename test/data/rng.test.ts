/** Tests for the seeded RNG: determinism, fork independence, state round-trip, distribution sanity. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";

test("same seed gives the same stream; different seeds differ", () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.nextU32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.nextU32()),
  );
});

test("fork does not depend on how much the parent was used", () => {
  const a = new Rng(7),
    b = new Rng(7);
  for (let i = 0; i < 100; i++) b.float();
  assert.equal(a.fork("x").nextU32(), b.fork("x").nextU32());
  assert.notEqual(a.fork("x").nextU32(), a.fork("y").nextU32());
});

test("state round-trip continues the identical stream", () => {
  const a = new Rng("s");
  a.normal();
  const st = JSON.parse(JSON.stringify(a.state()));
  const b = Rng.fromState(st);
  for (let i = 0; i < 10; i++) assert.equal(a.normal(), b.normal());
  assert.throws(() => Rng.fromState({ ...st, format: "other" }), /unknown RNG state format/);
});

test("int is uniform (chi-square, 10 bins, fixed seed) and normal has unit variance", () => {
  const r = new Rng(1);
  const n = 100000,
    bins = new Array(10).fill(0);
  for (let i = 0; i < n; i++) bins[r.int(10)]++;
  const chi = bins.reduce((s, o) => s + (o - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi < 27.88, `chi2=${chi} (df=9, p=0.001 critical 27.88)`);
  let s = 0,
    s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  assert.ok(Math.abs(s / n) < 0.02);
  assert.ok(Math.abs(s2 / n - 1) < 0.02);
});

test("weighted names the bad weight: NaN (a model gone NaN), negative, Infinity, all zero", () => {
  const r = new Rng(3);
  assert.throws(
    () => r.weighted([0.2, NaN, 0.3]),
    /^RangeError: Rng\.weighted: weight 1 of 3 is NaN \(weights must be finite and >= 0\); NaN weights usually mean the model's outputs are NaN: check its checkpoint$/,
  );
  assert.throws(() => r.weighted([1, -0.5]), /weight 1 of 2 is -0\.5 \(weights must be finite and >= 0\)$/);
  assert.throws(() => r.weighted([Infinity, 1]), /weight 0 of 2 is Infinity/);
  assert.throws(() => r.weighted([0, 0]), /all 2 weights are 0/);
  assert.equal(r.weighted([0, 1, 0]), 1);
});
