/**
 * exp(x) about twice as fast as Math.exp in V8 (an inlinable polynomial instead of a builtin call), accurate to
 * ~1e-11 relative -- far below float32 resolution. Used by the exp-heavy loops: softmax, SwiGLU's sigmoid, losses.
 */

// 2^k for k in [-1023, 1024], indexed by k + 1023
const POW2 = new Float64Array(2048);
for (let k = 0; k < 2048; k++) POW2[k] = Math.pow(2, k - 1023);
const LOG2E = 1.4426950408889634;
// ln 2 split in a high part exact in few bits and a low correction, so k*LN2_HI has no rounding error
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;

/**
 * exp(x) = 2^k * e^r with k = round(x / ln 2) and |r| <= ln2 / 2; e^r by its degree-9 Taylor polynomial (truncation
 * < 0.347^10 / 10! ~ 7e-12). Below -700 returns 0, above 700 Infinity; NaN stays NaN.
 */
export function fastExp(x: number): number {
  if (x < -700) return 0;
  if (x > 700) return Infinity;
  const k = Math.floor(x * LOG2E + 0.5);
  const r = x - k * LN2_HI - k * LN2_LO;
  const p =
    1 +
    r *
      (1 +
        r *
          (0.5 +
            r *
              (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320 + r / 362880))))))));
  return p * POW2[(k + 1023) & 2047];
}
