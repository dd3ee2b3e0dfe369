/** Test helper: Pearson chi-square statistics and their p-values (regularised incomplete gamma), for arms tests. */

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = upper regularised incomplete gamma: series below a + 1, Lentz continued fraction above. */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * lead;
  }
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return lead * h;
}

/** P(X >= stat) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquarePValue(stat: number, df: number): number {
  return gammaQ(df / 2, stat / 2);
}

/** Pearson's test of independence on paired categorical observations: statistic, degrees of freedom, p-value. */
export function independenceTest(
  xs: readonly string[],
  ys: readonly string[],
): { stat: number; df: number; p: number } {
  const rows = [...new Set(xs)];
  const cols = [...new Set(ys)];
  const n = xs.length;
  const table = rows.map(() => cols.map(() => 0));
  for (let i = 0; i < n; i++) table[rows.indexOf(xs[i])][cols.indexOf(ys[i])]++;
  const rowSum = table.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = cols.map((_, j) => table.reduce((a, r) => a + r[j], 0));
  let stat = 0;
  for (let i = 0; i < rows.length; i++)
    for (let j = 0; j < cols.length; j++) {
      const e = (rowSum[i] * colSum[j]) / n;
      stat += (table[i][j] - e) ** 2 / e;
    }
  const df = (rows.length - 1) * (cols.length - 1);
  return { stat, df, p: chiSquarePValue(stat, df) };
}

/** Pearson's goodness-of-fit of observed counts against expected proportions (same keys). */
export function goodnessOfFit(
  observed: Record<string, number>,
  expected: Record<string, number>,
): { stat: number; df: number; p: number } {
  const keys = Object.keys(expected);
  const n = Object.values(observed).reduce((a, b) => a + b, 0);
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  let stat = 0;
  for (const k of keys) {
    const e = (n * expected[k]) / total;
    stat += ((observed[k] ?? 0) - e) ** 2 / e;
  }
  const df = keys.length - 1;
  return { stat, df, p: chiSquarePValue(stat, df) };
}
