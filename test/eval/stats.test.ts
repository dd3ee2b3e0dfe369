/** Tests for src/eval/stats.ts and special.ts against values computed by hand or from closed forms. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../src/data/rng.js";
import {
  StatsError,
  bootstrapCi,
  chiSquareIndependence,
  mean,
  meanCi,
  pairedWinRate,
  percentReduction,
  percentReductionCi,
  shareTable,
  std,
  variance,
  wilsonCi,
} from "../../src/eval/stats.js";
import {
  chiSquareSf,
  lnGamma,
  normalCdf,
  normalQuantile,
  regularizedBeta,
  studentTCdf,
  studentTQuantile,
} from "../../src/eval/special.js";

function close(actual: number, expected: number, tol: number, what = ""): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual} (tol ${tol})`);
}

test("mean, variance and std match hand computation", () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(xs), 5);
  // Squared deviations 9+1+1+1+0+0+4+16 = 32, over n-1 = 7.
  close(variance(xs), 32 / 7, 1e-15);
  close(std(xs), Math.sqrt(32 / 7), 1e-15);
  assert.equal(variance([3]), 0);
  assert.throws(() => mean([]), StatsError);
  assert.throws(() => mean([1, NaN]), /value 1 is NaN/);
});

test("lnGamma and the regularized incomplete beta hit known values", () => {
  close(lnGamma(1), 0, 1e-14);
  close(lnGamma(5), Math.log(24), 1e-13);
  close(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13);
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1-x)^b.
  close(regularizedBeta(0.3, 1, 1), 0.3, 1e-14);
  close(regularizedBeta(0.3, 3, 1), 0.027, 1e-14);
  close(regularizedBeta(0.3, 1, 4), 1 - 0.7 ** 4, 1e-14);
});

test("Student t CDF equals the df=3 closed form", () => {
  // F(t) = 1/2 + (1/pi) [ t / (sqrt3 (1 + t^2/3)) + atan(t / sqrt3) ]
  for (const t of [-4, -1.3, 0, 0.5, 2, 7.5]) {
    const exact = 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI;
    close(studentTCdf(t, 3), exact, 1e-13, `t=${t}`);
  }
  // df = 1 is Cauchy: F(t) = 1/2 + atan(t)/pi.
  close(studentTCdf(2, 1), 0.5 + Math.atan(2) / Math.PI, 1e-13);
});

test("Student t quantiles: closed forms for df 1, 2 and table values for df 3..30", () => {
  close(studentTQuantile(0.975, 1), 1 / Math.tan(0.025 * Math.PI), 1e-12, "df1");
  close(studentTQuantile(0.975, 2), 0.95 * Math.sqrt(2 / (1 - 0.95 * 0.95)), 1e-12, "df2");
  // Standard 97.5% table values to 10 digits.
  const table: Array<[number, number]> = [
    [3, 3.1824463053],
    [5, 2.5705818356],
    [10, 2.228138852],
    [30, 2.0422724563],
    [1000, 1.9623390808],
  ];
  for (const [df, t] of table) close(studentTQuantile(0.975, df), t, 1e-8, `df${df}`);
  // Every df 1..30 round-trips through the CDF and is symmetric.
  for (let df = 1; df <= 30; df++) {
    const q = studentTQuantile(0.975, df);
    close(studentTCdf(q, df), 0.975, 1e-12, `cdf(q) df${df}`);
    close(studentTQuantile(0.025, df), -q, 1e-9, `symmetry df${df}`);
  }
});

test("normal CDF and quantile", () => {
  close(normalCdf(0), 0.5, 1e-15);
  close(normalQuantile(0.975), 1.959963984540054, 1e-10);
  close(normalCdf(-1.959963984540054), 0.025, 1e-12);
});

test("meanCi uses t with n-1 degrees of freedom", () => {
  const e = meanCi([1, 2, 3]);
  // s = 1, se = 1/sqrt(3), t_{0.975,2} from its closed form.
  const half = (0.95 * Math.sqrt(2 / (1 - 0.9025))) / Math.sqrt(3);
  assert.equal(e.mean, 2);
  close(e.lo, 2 - half, 1e-12);
  close(e.hi, 2 + half, 1e-12);
  assert.equal(e.n, 3);
  assert.equal(e.method, "student-t");
  const one = meanCi([4]);
  assert.deepEqual([one.lo, one.hi, one.method], [4, 4, "none (n=1)"]);
});

test("Wilson interval for 8/10 and for the edge 0/5", () => {
  const w = wilsonCi(8, 10);
  close(w.mean, 0.8, 0);
  close(w.lo, 0.4901625, 1e-6);
  close(w.hi, 0.9433178, 1e-6);
  const z = wilsonCi(0, 5);
  assert.equal(z.lo, 0);
  // Upper bound z^2/(n+z^2) when p = 0.
  const z2 = 1.959963984540054 ** 2;
  close(z.hi, z2 / (5 + z2), 1e-9);
});

test("bootstrap CI is seeded, reproducible and sensible", () => {
  const xs = Array.from({ length: 200 }, (_, i) => (i * 37) % 11);
  const a = bootstrapCi(xs, { rng: new Rng("boot") });
  const b = bootstrapCi(xs, { rng: new Rng("boot") });
  assert.deepEqual(a, b);
  assert.equal(a.mean, mean(xs));
  assert.ok(a.lo < a.mean && a.mean < a.hi);
  // For 200 values the percentile bootstrap and the t interval agree closely.
  const t = meanCi(xs);
  close(a.lo, t.lo, 0.1, "lo");
  close(a.hi, t.hi, 0.1, "hi");
  const constant = bootstrapCi([3, 3, 3], { rng: new Rng(1), resamples: 50 });
  assert.deepEqual([constant.lo, constant.hi], [3, 3]);
  const med = bootstrapCi([1, 2, 100], { rng: new Rng(2), resamples: 100 }, (s) => [...s].sort((x, y) => x - y)[1]);
  assert.equal(med.mean, 2);
});

test("paired win rate counts ties as half and drops unscored pairs", () => {
  // Lower is better: win, tie, loss, win, (dropped).
  const r = pairedWinRate([1, 2, 3, 4, null], [2, 2, 1, 5, 0], { lowerIsBetter: true });
  assert.deepEqual([r.wins, r.ties, r.losses, r.n], [2, 1, 1, 4]);
  assert.equal(r.mean, 0.625);
  const w = wilsonCi(2.5, 4);
  assert.deepEqual([r.lo, r.hi], [w.lo, w.hi]);
  const higher = pairedWinRate([1, 2], [2, 1], { lowerIsBetter: false });
  assert.equal(higher.mean, 0.5);
  assert.throws(() => pairedWinRate([1], [1, 2], { lowerIsBetter: true }), /lengths 1 and 2/);
});

test("percent reduction", () => {
  close(percentReduction(46.1, 100), 53.9, 1e-12);
  close(percentReduction(3, 2), -50, 1e-12);
  assert.throws(() => percentReduction(1, 0), /reference is 0/);
});

test("percent reduction with a bootstrap CI, paired and unpaired", () => {
  const treated = [1, 2, 3, 2, null, 1];
  const reference = [4, 5, 6, 4, 9, 5];
  // Paired drops pair 4: means 9/5 and 24/5, reduction 100 * (24 - 9) / 24 = 62.5.
  const p = percentReductionCi(treated, reference, { rng: new Rng("pr"), paired: true });
  close(p.mean, 62.5, 1e-12);
  assert.equal(p.n, 5);
  assert.ok(p.lo < 62.5 && 62.5 < p.hi && p.hi <= 100);
  assert.deepEqual(p, percentReductionCi(treated, reference, { rng: new Rng("pr"), paired: true }));
  // Unpaired keeps the 9: reference mean 33/6 = 5.5, reduction 100 * (5.5 - 1.8) / 5.5.
  const u = percentReductionCi(treated, reference, { rng: new Rng("pr"), paired: false });
  close(u.mean, (100 * (5.5 - 1.8)) / 5.5, 1e-12);
  assert.throws(() => percentReductionCi([1], [1, 2], { rng: new Rng(1), paired: true }), /equal length/);
});

test("share table over PASS/PARTIAL/FAIL", () => {
  const t = shareTable(["PASS", "FAIL", "PASS", null, "PARTIAL", "PASS"], ["PASS", "PARTIAL", "FAIL"] as const);
  assert.equal(t.total, 5);
  assert.equal(t.unlabelled, 1);
  assert.deepEqual(
    t.rows.map((r) => [r.key, r.count, r.mean]),
    [
      ["PASS", 3, 0.6],
      ["PARTIAL", 1, 0.2],
      ["FAIL", 1, 0.2],
    ],
  );
  assert.throws(() => shareTable(["PASS", "pass" as "PASS"], ["PASS"]), /item 1 has category "pass"/);
});

test("chi-square independence: 2x2 and 2x3 tables by hand", () => {
  // Expected 12, 18, 28, 42: 4/12 + 4/18 + 4/28 + 4/42 = 50/63; df 1: p = erfc(sqrt(stat/2)) = 0.3729984836.
  const r = chiSquareIndependence([
    [10, 20],
    [30, 40],
  ]);
  close(r.stat, 50 / 63, 1e-14);
  assert.equal(r.df, 1);
  close(r.p, 0.37299848361348714, 1e-12);
  // Expected 15, 20, 25 in each row: stat = 2 (25/15 + 25/25) = 16/3; df 2: p = exp(-stat/2).
  const s = chiSquareIndependence([
    [10, 20, 30],
    [20, 20, 20],
  ]);
  close(s.stat, 16 / 3, 1e-13);
  assert.equal(s.df, 2);
  close(s.p, Math.exp(-8 / 3), 1e-13);
  // The 5% critical value for df 1.
  close(chiSquareSf(3.841458820694124, 1), 0.05, 1e-12);
  // All-zero rows/columns are dropped; a degenerate table has nothing to test.
  assert.deepEqual(
    chiSquareIndependence([
      [10, 20, 0],
      [0, 0, 0],
      [30, 40, 0],
    ]),
    r,
  );
  assert.deepEqual(chiSquareIndependence([[5, 6]]), { stat: 0, df: 0, p: 1 });
  assert.throws(() => chiSquareIndependence([[1, 2], [3]]), /row 1 has 1 columns/);
  assert.throws(() => chiSquareIndependence([[1, -2]]), /cell \[0\]\[1\] is -2/);
});
