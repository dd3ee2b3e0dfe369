/**
 * exp and sigmoid faster than through Math.exp in V8 (inlinable arithmetic instead of a builtin call), accurate to
 * ~1e-12 -- far below float32 resolution. Used by the exp-heavy loops: softmax, SwiGLU's sigmoid, losses.
 */

const LOG2E = 1.4426950408889634;
// exp(x) = 2^(k/32) * e^r: one table of 2^(k/32) over the whole fast range, so a call costs one lookup and a
// degree-4 polynomial on |r| <= ln2/64 (the step-1/32 table is what makes such a short polynomial enough)
const FAST_R = 100; // |x| above this goes to Math.exp (rare: softmax arguments are <= 0 and rarely below -100)
const STEPS = 32;
const K_OFF = Math.ceil(FAST_R * STEPS * LOG2E) + 1;
const POW2_32 = new Float64Array(2 * K_OFF + 1);
for (let i = 0; i < POW2_32.length; i++) POW2_32[i] = Math.pow(2, (i - K_OFF) / STEPS);
const STEPS_LOG2E = STEPS * LOG2E;
const LN2_STEPS = Math.LN2 / STEPS;
// adding then subtracting 1.5 * 2^52 rounds a double to the nearest integer without a Math.round call (V8 does not
// inline Math.round as cheaply), exact for |x| < 2^51
const ROUND_MAGIC = 6755399441055744.0;

/**
 * exp(x) = 2^(k/32) e^r with k = round(32 x / ln 2), |r| <= ln2 / 64 and e^r by its degree-4 Taylor polynomial
 * (truncation < 0.0109^5 / 5! ~ 1.3e-12 relative). Outside [-100, 100] (and for +-Infinity) Math.exp; NaN stays NaN.
 */
export function fastExp(x: number): number {
  if (x < -FAST_R || x > FAST_R) return Math.exp(x);
  const kf = x * STEPS_LOG2E + ROUND_MAGIC - ROUND_MAGIC;
  const r = x - kf * LN2_STEPS;
  // Estrin's scheme: (1 + r) + r^2 (1/2 + r/6 + r^2/24) has a shorter dependency chain than Horner's, so more
  // elements of a hot loop are in flight at once
  const r2 = r * r;
  const p = 1 + r + r2 * (0.5 + r * (1 / 6) + r2 * (1 / 24));
  return p * POW2_32[(kf | 0) + K_OFF];
}

/**
 * fastExp's constants, for kernels that must compute exactly what it computes (the wasm decode kernels, the native
 * ops in native-ops.c): the same doubles in the same operations give the same bits.
 */
export const FAST_EXP = { FAST_R, STEPS_LOG2E, LN2_STEPS, ROUND_MAGIC, K_OFF, POW2_32 } as const;

/**
 * sigmoid(x) = 1 / (1 + e^-x) through fastExp (absolute error ~1e-12); written so that -Infinity gives 0,
 * Infinity 1 and NaN NaN. SwiGLU's hot loop uses it.
 */
export function fastSigmoid(x: number): number {
  return 1 / (1 + fastExp(-x));
}
